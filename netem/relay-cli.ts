/**
 * Runs an impairment relay on its own and prints its counters:
 *
 *   node --import tsx netem/relay-cli.ts --listen 127.0.0.1:5000 \
 *     --upstream 127.0.0.1:4515 --profile cellular [--seed N] \
 *     [--seconds N] [--interval-ms N] [--set outageStartMs=5000]... \
 *     [--source-host 127.0.0.2]... [--json] [--log-level info]
 *
 * `--profile` takes a shipped name or a JSON file path. `--set` overrides
 * one field (`outageMs=3000`, `up.lossPercent=5`). Counter lines go to
 * stdout; log lines (JSON) to stderr. Exit 0 when stopped (by --seconds,
 * SIGINT or SIGTERM), 2 on a usage or profile error, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { createLogger, errorMessage } from '../src/common/index.ts';
import { WavemqError } from '../src/common/errors.ts';
import { loadProfile, readOverrides } from './profile.ts';
import { ImpairmentRelay, type HostPort, type RelayStats } from './relay.ts';
import type { DirectionCounters } from './shaper.ts';

const USAGE =
  'usage: relay-cli --listen HOST:PORT --upstream HOST:PORT ' +
  '--profile NAME|FILE [--seed N] [--seconds N] [--interval-ms N] ' +
  '[--set KEY=VALUE]... [--source-host HOST]... [--json] [--log-level L]';

/** A command-line mistake; exit code 2. */
class UsageError extends Error {}

interface CliOptions {
  listen: HostPort;
  upstream: HostPort;
  profile: string;
  seed: number | undefined;
  seconds: number | undefined;
  intervalMs: number;
  sets: string[];
  sourceHosts: string[];
  json: boolean;
  logLevel: LevelWithSilent;
}

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      upstream: { type: 'string' },
      profile: { type: 'string' },
      seed: { type: 'string' },
      seconds: { type: 'string' },
      'interval-ms': { type: 'string' },
      set: { type: 'string', multiple: true },
      'source-host': { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'log-level': { type: 'string' },
    },
  });
  const required = (name: 'listen' | 'upstream' | 'profile'): string => {
    const v = values[name];
    if (v === undefined) throw new UsageError(`--${name} is required`);
    return v;
  };
  return {
    listen: hostPort('--listen', required('listen')),
    upstream: hostPort('--upstream', required('upstream')),
    profile: required('profile'),
    seed: optionalNumber('--seed', values.seed),
    seconds: optionalNumber('--seconds', values.seconds),
    intervalMs: optionalNumber('--interval-ms', values['interval-ms']) ?? 1000,
    sets: values.set ?? [],
    sourceHosts: values['source-host'] ?? [],
    json: values.json ?? false,
    logLevel: (values['log-level'] ?? 'info') as LevelWithSilent,
  };
}

/** `host:port` or `[v6]:port`. */
function hostPort(flag: string, text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (!host || !Number.isInteger(port) || port > 65_535) {
    throw new UsageError(`${flag} must be HOST:PORT, not ${text}`);
  }
  return { host, port };
}

function optionalNumber(flag: string, text: string | undefined) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`${flag} must be a number >= 0, not ${text}`);
  }
  return n;
}

/** `--set a.b=1` pairs as a nested object for readOverrides. */
function overridesOf(sets: string[]): Record<string, unknown> {
  const out: Record<string, Record<string, unknown> | number> = {};
  for (const pair of sets) {
    const m = /^([A-Za-z]+)(?:\.([A-Za-z]+))?=(.+)$/.exec(pair);
    if (!m?.[1] || m[3] === undefined) {
      throw new UsageError(`--set must be KEY=VALUE, not ${pair}`);
    }
    const value = Number(m[3]);
    if (!Number.isFinite(value)) {
      throw new UsageError(`--set ${m[1]}: ${m[3]} is not a number`);
    }
    if (m[2] === undefined) {
      out[m[1]] = value;
    } else {
      const group = out[m[1]];
      const obj = typeof group === 'object' ? group : {};
      obj[m[2]] = value;
      out[m[1]] = obj;
    }
  }
  return out;
}

function counterText(c: DirectionCounters): string {
  return (
    `in ${c.packetsIn} fwd ${c.forwarded} loss ${c.droppedLoss} ` +
    `down ${c.droppedOutage} bh ${c.droppedBlackhole} ` +
    `queue ${c.droppedRateQueue + c.droppedLimit} other ${c.droppedOther} ` +
    `senderr ${c.sendErrors} ` +
    `dup ${c.duplicated} reord ${c.reordered} held ${c.heldPackets}`
  );
}

function statsLine(s: RelayStats, json: boolean): string {
  if (json) return JSON.stringify(s);
  return (
    `t=${(s.elapsedMs / 1000).toFixed(1)}s ` +
    `state ${s.state.up}/${s.state.down} clients ${s.clients} ` +
    `rebinds ${s.rebinds} | up: ${counterText(s.up)} | ` +
    `down: ${counterText(s.down)}`
  );
}

/** Resolves on SIGINT, SIGTERM, or after `seconds` when given. */
function stopSignal(seconds: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => resolve());
    }
    if (seconds !== undefined) {
      setTimeout(() => resolve(), seconds * 1000).unref();
    }
  });
}

async function main(argv: string[]): Promise<number> {
  const o = parseCli(argv);
  const profile = await loadProfile(
    o.profile,
    readOverrides(o.profile, overridesOf(o.sets)),
  );
  const logger = createLogger({
    level: o.logLevel,
    destination: process.stderr,
  });
  const relay = new ImpairmentRelay({
    listen: o.listen,
    upstream: o.upstream,
    profile,
    logger,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.sourceHosts.length > 0 ? { sourceHosts: o.sourceHosts } : {}),
  });
  const stopped = stopSignal(o.seconds);
  // Stopped below, after the final counters are read.
  const address = await relay.start();
  process.stdout.write(
    `relay ${address.host}:${address.port} -> ` +
      `${o.upstream.host}:${o.upstream.port} profile ${profile.name}\n`,
  );
  const timer = setInterval(() => {
    process.stdout.write(statsLine(relay.stats(), o.json) + '\n');
  }, o.intervalMs);
  // The sockets keep the process alive; the stop promise ends it.
  timer.unref();
  await stopped;
  clearInterval(timer);
  const final = relay.stats();
  await relay.stop();
  process.stdout.write(`final ${statsLine(final, o.json)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof UsageError || err instanceof TypeError;
    const known = usage || err instanceof WavemqError;
    process.stderr.write(`${errorMessage(err)}\n${usage ? USAGE + '\n' : ''}`);
    process.exitCode = known ? 2 : 1;
  },
);
