/**
 * Mosquitto brokers for the trial runner's baseline: finding (or, as
 * root on Debian, installing) the `mosquitto` binary, writing a cloud
 * broker's and a bridging site broker's configuration, and running each
 * as a child process that is stopped with the trial.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sleep } from '../src/common/index.ts';
import { BaselineError, PackageMissingError } from './errors.ts';
import { isRoot } from './command.ts';
import { ensurePackage, findBinary, runTolerant } from './packages.ts';

/** Where Debian installs the broker; searched after PATH. */
const DEBIAN_PATH = '/usr/sbin/mosquitto';
/** Longest wait for a broker to accept connections, ms. */
const START_TIMEOUT_MS = 10_000;
/** Grace for a broker to stop on SIGTERM before SIGKILL, ms. */
const STOP_GRACE_MS = 3000;
/** Log lines kept per broker. Overflow policy: the oldest go. */
const MAX_LOG_LINES = 200;

/** The `mosquitto` binary on PATH or where Debian puts it, if any. */
export function findMosquitto(
  pathList: string = process.env['PATH'] ?? '',
): string | undefined {
  return findBinary('mosquitto', [DEBIAN_PATH], pathList);
}

/** Options of {@link ensureMosquitto}. */
export interface EnsureOptions {
  /** Install Debian's package when missing (needs root); default true. */
  install?: boolean;
  /** Told what is being done (one line each). */
  say?: (line: string) => void;
}

/**
 * The path of the `mosquitto` binary, installing Debian's `mosquitto`
 * package with apt-get first when it is missing and we are root.
 * @throws BaselineError naming what is missing when it cannot be had.
 */
export async function ensureMosquitto(o: EnsureOptions = {}): Promise<string> {
  try {
    return await ensurePackage({
      binary: 'mosquitto',
      pkg: 'mosquitto',
      fallbacks: [DEBIAN_PATH],
      ...(o.install === undefined ? {} : { install: o.install }),
      say: (line) => o.say?.(`netem: ${line} for the baseline`),
    });
  } catch (err) {
    if (!(err instanceof PackageMissingError)) throw err;
    throw new BaselineError(`${err.message} or pass --no-baseline`, {
      step: 'install',
      ...(err.data.exitCode === undefined ? {} : { code: err.data.exitCode }),
    });
  }
}

/** What a broker's configuration needs. */
export interface BrokerConfig {
  /** Listening address; default 127.0.0.1. */
  host?: string;
  /** Listening port. */
  port: number;
  /** Folder for its persistence file. */
  dataDir: string;
}

/** The bridge of a site broker to the cloud broker. */
export interface BridgeConfig {
  /** Where the cloud broker is reached (the relay). */
  address: { host: string; port: number };
  /** Topic pattern forwarded out, QoS 1. */
  topic: string;
  /** Bridge keep-alive, s (Mosquitto's minimum is 5). */
  keepAliveS: number;
}

/**
 * A broker configuration: loopback listener, anonymous clients, queues
 * persisted, no limit on queued messages (so that drops are the
 * broker's behaviour, not a configured limit), $SYS every second, and a
 * bridge when given (clean session off, QoS 1, reconnecting with
 * jittered backoff from 1 s to 15 s like the site router's uplink).
 */
export function brokerConfig(b: BrokerConfig, bridge?: BridgeConfig): string {
  const lines = [
    `listener ${b.port} ${b.host ?? '127.0.0.1'}`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${b.dataDir}/`,
    'autosave_interval 1',
    'max_queued_messages 0',
    'max_inflight_messages 20',
    'sys_interval 1',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
  ];
  // Started as root, the broker would change to the `mosquitto` user,
  // which cannot write the trial's folder.
  if (isRoot()) lines.push('user root');
  if (bridge) {
    lines.push(
      'connection cloud',
      `address ${bridge.address.host}:${bridge.address.port}`,
      `topic ${bridge.topic} out 1`,
      'cleansession false',
      'remote_clientid netem-site-bridge',
      `keepalive_interval ${Math.max(5, Math.round(bridge.keepAliveS))}`,
      'restart_timeout 1 15',
      'notifications true',
      'bridge_protocol_version mqttv311',
      'start_type automatic',
    );
  }
  return lines.join('\n') + '\n';
}

/** A running broker. */
export class MosquittoBroker {
  /** Its last log lines. */
  readonly logs: string[] = [];
  private proc: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;

  /**
   * @param host and port: where it listens (waited for at start).
   * @param netns network namespace to run it in; default ours.
   */
  constructor(
    private readonly binary: string,
    private readonly name: string,
    private readonly host: string,
    private readonly port: number,
    private readonly netns?: string,
  ) {}

  /**
   * Writes `config` to `<dir>/<name>.conf`, starts the broker and waits
   * until it accepts connections.
   * @throws BaselineError when it exits or does not listen in time.
   */
  async start(dir: string, config: string): Promise<void> {
    const file = join(dir, `${this.name}.conf`);
    await writeFile(file, config);
    const argv = [this.binary, '-c', file];
    const [cmd, ...args] = this.netns
      ? ['ip', 'netns', 'exec', this.netns, ...argv]
      : argv;
    const proc = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code) => resolve(code));
      proc.once('error', () => resolve(null));
    });
    const keep = (d: Buffer) => this.keepLog(d);
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    await this.waitListening();
  }

  /** Stops the broker: SIGTERM, then SIGKILL after a grace. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const done = await Promise.race([this.exited, sleep(STOP_GRACE_MS)]);
    if (done === undefined) proc.kill('SIGKILL');
    await this.exited;
  }

  /** Kills the broker at once (for a process about to exit). */
  kill(): void {
    this.proc?.kill('SIGKILL');
  }

  private keepLog(d: Buffer): void {
    for (const line of d.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      this.logs.push(line);
      if (this.logs.length > MAX_LOG_LINES) this.logs.shift();
    }
  }

  private async waitListening(): Promise<void> {
    const end = performance.now() + START_TIMEOUT_MS;
    while (performance.now() < end) {
      const proc = this.proc;
      if (proc?.exitCode !== null || proc.signalCode !== null) break;
      if (await accepts(this.host, this.port)) return;
      await sleep(50);
    }
    throw new BaselineError(
      `mosquitto (${this.name}) did not start: ` +
        (this.logs.slice(-3).join(' | ') || 'no output'),
      { step: 'start', broker: this.name },
    );
  }
}

/** True when `host`:`port` accepts a TCP connection. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The broker's version line, e.g. `mosquitto version 2.0.11`. */
export async function mosquittoVersion(binary: string): Promise<string> {
  // `mosquitto -h` prints its version and usage, then exits 3.
  const out = await runTolerant(binary, ['-h']);
  const line = `${out.stdout}\n${out.stderr}`
    .split('\n')
    .find((l) => /version/.test(l));
  return line?.trim() ?? 'mosquitto (version unknown)';
}
