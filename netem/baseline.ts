/**
 * The trial runner's baseline: the same workload over a Mosquitto
 * bridge. A cloud broker stands where the designated router stands, a
 * site broker bridges `netem/#` to it (QoS 1, clean session off) through
 * the TCP impairment relay with the same profile and seed, a publisher
 * at the site publishes with QoS 1 at the set rate, and a persistent
 * QoS 1 subscriber at the cloud broker counts what arrives. Figures are
 * computed exactly as for wavemq.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { errorMessage, sleep } from '../src/common/index.ts';
import { BaselineError } from './errors.ts';
import {
  MosquittoBroker,
  brokerConfig,
  type BridgeConfig,
  ensureMosquitto,
  mosquittoVersion,
} from './mosquitto.ts';
import { shiftSchedule } from './profile.ts';
import type { Profile } from './profile-types.ts';
import { TcpImpairmentRelay, type TcpRelayStats } from './tcp-relay.ts';
import { routerSide, type TrialNetwork } from './trial-network.ts';
import { tcLink, usesTc, type ApplyTc, type TrialLink } from './trial-link.ts';
import {
  runWorkload,
  type TrialProgress,
  type UplinkReading,
} from './trial-phases.ts';
import { figuresOf, type Figures } from './trial-result.ts';
import { DeliveryLog, TRIAL_URI, payloadSeq } from './workload.ts';

/** Options of {@link runBaseline}: the trial's settings, resolved. */
export interface BaselineOptions {
  /** Schedule times count from the start of publishing. */
  profile: Profile;
  seed: number;
  seconds: number;
  ratePerSecond: number;
  payloadBytes: number;
  /** Time between the relay's start and publishing, ms. */
  leadInMs: number;
  /** The bridge's keep-alive, s (at least Mosquitto's 5). */
  keepAliveS: number;
  /**
   * The namespaces to run in (the caller runs in the site's; the cloud
   * broker goes in the router's); default loopback.
   */
  network?: TrialNetwork | undefined;
  /** Applies tc profiles when the network has a trunk path; default tc. */
  applyTc?: ApplyTc | undefined;
  /** Longest wait for the drain after publishing; default 120 000. */
  drainTimeoutMs?: number;
  /** Install Debian's mosquitto when missing (root only); default true. */
  install?: boolean;
  keepDir?: boolean;
  onProgress?: (p: TrialProgress) => void;
  progressIntervalMs?: number;
  /** Told what is being done, a line each. */
  say?: (line: string) => void;
  signal?: AbortSignal;
}

/** What the baseline measured. */
export interface BaselineResult extends Figures {
  /** The broker's version line. */
  broker: string;
  /** From the relay's start to the bridge being connected, ms. */
  setupMs: number;
  completed: boolean;
  /** The TCP relay's counters; undefined when tc impaired the link. */
  relay: TcpRelayStats | undefined;
  /** What impaired the link: `relay` or `tc netem`. */
  impairment: string;
  /** Times the bridge connected, and its state at the end. */
  bridgeConnects: number;
  bridgeState: string;
  dir: string | undefined;
}

/** Longest wait for the bridge to connect at the start, ms. */
const BRIDGE_TIMEOUT_MS = 60_000;
/** Topic pattern the bridge forwards and the subscriber reads. */
const TOPIC_PATTERN = 'netem/#';

/** Everything a baseline run starts. */
interface Running {
  root: string;
  brokers: MosquittoBroker[];
  clients: MqttClient[];
  link: TrialLink | undefined;
}

/** Running baselines, for {@link abandonBaselines}. */
const live = new Set<Running & { keep: boolean }>();

/**
 * Kills every running baseline's brokers and removes its folder (unless
 * kept), synchronously: for a process about to exit on a signal.
 */
export function abandonBaselines(): void {
  for (const r of live) {
    for (const b of r.brokers) b.kill();
    if (!r.keep) rmSync(r.root, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * Runs the workload over a Mosquitto bridge and returns its figures;
 * everything it started is stopped when it settles.
 * @throws BaselineError when mosquitto is missing and cannot be
 *   installed, a broker does not start, or the bridge never connects.
 */
export async function runBaseline(o: BaselineOptions): Promise<BaselineResult> {
  const binary = await ensureMosquitto({
    ...(o.install === undefined ? {} : { install: o.install }),
    ...(o.say ? { say: o.say } : {}),
  });
  const r: Running & { keep: boolean } = {
    root: await mkdtemp(join(tmpdir(), 'wavemq-netem-mqtt-')),
    brokers: [],
    clients: [],
    link: undefined,
    keep: o.keepDir === true,
  };
  live.add(r);
  try {
    return await baseline(r, o, binary);
  } finally {
    await tearDown(r, r.keep);
    live.delete(r);
  }
}

/**
 * The site broker's queue for the bridge cannot be read, so only a long
 * enough silence ends the drain: longer than the bridge's longest
 * reconnect delay (`restart_timeout 1 15`), plus its keep-alive to
 * notice the link, plus the handshake.
 */
const BRIDGE_QUIET_MS = 30_000;

async function baseline(
  r: Running,
  o: BaselineOptions,
  binary: string,
): Promise<BaselineResult> {
  const count = Math.max(1, Math.round(o.seconds * o.ratePerSecond));
  const sentAtMs = new Float64Array(count).fill(NaN);
  const log = new DeliveryLog(count, sentAtMs);
  const { link, relay, publisherClient, bridge } = await bringUp(
    r,
    o,
    binary,
    log,
  );
  const { setupMs, publisher, timeline } = await runWorkload({
    relay: link,
    poller: bridge,
    log,
    publish: (_seq, payload) =>
      publisherClient.publishAsync(TRIAL_URI, payload, { qos: 1 }),
    ratePerSecond: o.ratePerSecond,
    payloadBytes: o.payloadBytes,
    seconds: o.seconds,
    leadInMs: o.leadInMs,
    drainTimeoutMs: o.drainTimeoutMs,
    quietMs: BRIDGE_QUIET_MS,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs,
    signal: o.signal,
  });
  return {
    ...figuresOf({
      profile: o.profile,
      publisher,
      log,
      timeline,
      senderDrops: bridge.latest.drops,
      // The site broker's queue for the bridge cannot be read: only
      // arrivals decide when the drain is over.
      firstEmptyAfter: (ms) => ms,
    }),
    broker: await mosquittoVersion(binary),
    setupMs: Math.round(setupMs),
    completed: timeline.completed,
    relay: relay?.stats(),
    impairment: link.kind,
    bridgeConnects: bridge.connects,
    bridgeState: bridge.latest.link,
    dir: o.keepDir === true ? r.root : undefined,
  };
}

/**
 * Starts the cloud broker and its subscriber, the relay, the bridging
 * site broker and its publisher, and waits for the bridge.
 */
async function bringUp(
  r: Running,
  o: BaselineOptions,
  binary: string,
  log: DeliveryLog,
) {
  const [cloudPort, sitePort, relayPort] = [
    await freeTcpPort(),
    await freeTcpPort(),
    await freeTcpPort(),
  ];
  const cloud = routerSide(o.network);
  const tc = usesTc(o.network, o.profile) ? o.network : undefined;
  // With a trunk path the broker listens on both of its addresses.
  const listenHost = tc ? '0.0.0.0' : cloud.host;
  await startBroker(r, binary, 'cloud', {
    ...cloud,
    port: cloudPort,
    listenHost,
  });
  const subscriber = await mqttClient(
    r,
    cloud.host,
    cloudPort,
    'netem-subscriber',
  );
  subscriber.on('message', (_topic, payload) => {
    log.record(payloadSeq(payload), 0, performance.now());
  });
  await subscriber.subscribeAsync(TOPIC_PATTERN, { qos: 1 });
  const profile = shiftSchedule(o.profile, o.leadInMs);
  let relay: TcpImpairmentRelay | undefined;
  let bridgeTo = { host: '127.0.0.1', port: relayPort };
  if (tc) {
    r.link = await tcLink(tc, profile, o.applyTc);
    bridgeTo = { host: tc.trunk.routerHost, port: cloudPort };
  } else {
    relay = new TcpImpairmentRelay({
      listen: { host: '127.0.0.1', port: relayPort },
      upstream: { host: cloud.host, port: cloudPort },
      profile,
      seed: o.seed,
    });
    const started = relay;
    r.link = {
      kind: 'relay',
      stats: () => started.stats(),
      stop: () => started.stop(),
    };
    await relay.start();
  }
  const site = { host: '127.0.0.1', port: sitePort, netns: undefined };
  await startBroker(r, binary, 'site', site, {
    address: bridgeTo,
    topic: TOPIC_PATTERN,
    keepAliveS: o.keepAliveS,
  });
  const publisherClient = await mqttClient(
    r,
    '127.0.0.1',
    sitePort,
    'netem-publisher',
  );
  const bridge = new BridgeWatch(publisherClient);
  await bridge.start();
  await bridge.waitUp(BRIDGE_TIMEOUT_MS, o.signal);
  return { link: r.link, relay, publisherClient, bridge };
}

async function startBroker(
  r: Running,
  binary: string,
  name: string,
  at: {
    host: string;
    port: number;
    netns: string | undefined;
    /** Where it listens when not `host` (which it is reached at). */
    listenHost?: string;
  },
  bridge?: BridgeConfig,
): Promise<MosquittoBroker> {
  const dataDir = join(r.root, name);
  await mkdir(dataDir, { recursive: true });
  const { host, port, netns } = at;
  const broker = new MosquittoBroker(binary, name, host, port, netns);
  r.brokers.push(broker);
  const config = brokerConfig(
    { host: at.listenHost ?? host, port, dataDir },
    bridge,
  );
  await broker.start(r.root, config);
  return broker;
}

/** A persistent-session MQTT 3.1.1 client of `host`:`port`. */
async function mqttClient(
  r: Running,
  host: string,
  port: number,
  clientId: string,
): Promise<MqttClient> {
  const client = await connectAsync({
    host,
    port,
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 500,
    connectTimeout: 10_000,
  });
  r.clients.push(client);
  return client;
}

/**
 * The site broker's bridge, read from its $SYS topics: the connection
 * state notification and the count of dropped messages.
 */
class BridgeWatch {
  latest: UplinkReading & { drops: number } = {
    link: 'connecting',
    backlog: undefined,
    drops: 0,
  };
  connects = 0;

  constructor(private readonly client: MqttClient) {}

  async start(): Promise<void> {
    this.client.on('message', (topic, payload) => {
      const text = payload.toString('utf8');
      if (topic.endsWith('/state')) {
        const up = text === '1';
        if (up && this.latest.link !== 'up') this.connects += 1;
        this.latest = { ...this.latest, link: up ? 'up' : 'down' };
      } else if (topic === '$SYS/broker/publish/messages/dropped') {
        const n = Number(text);
        if (Number.isFinite(n)) this.latest = { ...this.latest, drops: n };
      }
    });
    await this.client.subscribeAsync(
      [
        '$SYS/broker/connection/+/state',
        '$SYS/broker/publish/messages/dropped',
      ],
      { qos: 0 },
    );
  }

  /** @throws BaselineError when the bridge is not up in `timeoutMs`. */
  async waitUp(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (this.latest.link !== 'up') {
      signal?.throwIfAborted();
      if (performance.now() > end) {
        throw new BaselineError(
          `the Mosquitto bridge did not connect within ${timeoutMs} ms`,
          { step: 'bridge', timeoutMs },
        );
      }
      await sleep(50, signal);
    }
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function tearDown(r: Running, keep: boolean): Promise<void> {
  for (const c of r.clients) {
    await c.endAsync(true).catch((err: unknown) => {
      process.stderr.write(`mqtt client close: ${errorMessage(err)}\n`);
    });
  }
  for (const b of [...r.brokers].reverse()) await b.stop();
  await r.link?.stop();
  if (!keep) await rm(r.root, { recursive: true, force: true });
}
