/**
 * One trial of the uplink under an impairment profile: a designated
 * router and a site router run as real processes (`wavemq CONFIG`, seed
 * config), the site's uplink goes through an ImpairmentRelay on loopback,
 * a publisher at the site sends numbered messages at a steady rate, and
 * a durable subscriber at the designated router counts what arrives.
 * The profile's schedule is timed from the start of publishing.
 *
 * On loopback by default; given a network (see trial-network.ts), the
 * designated router runs in the router's namespace and the rest here.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../src/agent/index.ts';
import { errorMessage, sleep } from '../src/common/index.ts';
import { freePort, startRouter } from '../harness/processes.ts';
import type { RouterProcess } from '../harness/processes.ts';
import { makeAgent } from '../harness/grants.ts';
import { loadProfile, shiftSchedule } from './profile.ts';
import type { Profile, ProfileOverrides } from './profile-types.ts';
import { randomSeed } from './random.ts';
import { ImpairmentRelay } from './relay.ts';
import { writeTierFiles, type PeerTimers } from './topology.ts';
import { routerSide, type TrialNetwork } from './trial-network.ts';
import { tcLink, usesTc, type ApplyTc, type TrialLink } from './trial-link.ts';
import { TrialSetupError } from './trial-errors.ts';
import { runWorkload, type TrialProgress } from './trial-phases.ts';
import { finishTrial, type TrialResult } from './trial-result.ts';
import { StatusPoller } from './trial-status.ts';
import { TrialSubscriber, connectTrialAgent } from './trial-subscriber.ts';
import { DeliveryLog, TRIAL_URI } from './workload.ts';

export type { TrialResult } from './trial-result.ts';
export type { TrialProgress } from './trial-phases.ts';

/**
 * Router-link timings of a trial: short, so a blackhole or a dead NAT
 * mapping is noticed within seconds.
 */
export const TRIAL_PEER_TIMERS: PeerTimers = { keepAliveS: 1, idleTimeoutS: 6 };

/** Options of {@link runTrial}; times in ms unless named otherwise. */
export interface TrialOptions {
  /** A shipped profile name or a JSON file path. */
  profile: string;
  /** Changes to the profile (`outageStartMs`, `up.lossPercent`, ...). */
  overrides?: ProfileOverrides;
  /** Publishing time, s; default 60. */
  seconds?: number;
  /** Messages per second; default 50. */
  ratePerSecond?: number;
  /** Payload size, bytes; default 256. */
  payloadBytes?: number;
  /** Seed of the relay's randomness; default random (reported). */
  seed?: number;
  /** Default {@link TRIAL_PEER_TIMERS}. */
  peerTimers?: PeerTimers;
  /**
   * Time between the relay's start and the start of publishing, which
   * the routers use to start and connect; default 4000. The schedule is
   * shifted by it, so its times count from the start of publishing.
   */
  leadInMs?: number;
  /** Longest wait for the drain after publishing; default 120 000. */
  drainTimeoutMs?: number;
  /** Keep the temporary folder (configs, data, router logs). */
  keepDir?: boolean;
  /**
   * The namespaces to run in (the caller runs in the site's); default
   * loopback in the caller's namespace.
   */
  network?: TrialNetwork;
  /** Applies tc profiles when the network has a trunk path; default tc. */
  applyTc?: ApplyTc;
  /** Called every `progressIntervalMs` (default 250) while running. */
  onProgress?: (p: TrialProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

/** Longest wait for the site's uplink to come up, ms. */
const UPLINK_TIMEOUT_MS = 60_000;
/** How often the site's status is read, ms. */
const STATUS_INTERVAL_MS = 200;
/** Grace for a router to stop on SIGTERM before SIGKILL, ms. */
const STOP_GRACE_MS = 5000;

/** Everything a trial starts, so that it can all be stopped. */
interface Running {
  root: string;
  keep: boolean;
  routers: Map<string, RouterProcess>;
  publisherAgent: Agent | undefined;
  subscriber: TrialSubscriber | undefined;
  link: TrialLink | undefined;
  poller: StatusPoller | undefined;
}

/** A trial's settings with every default filled in. */
interface Settings {
  profile: Profile;
  seconds: number;
  ratePerSecond: number;
  count: number;
  payloadBytes: number;
  seed: number;
  peerTimers: PeerTimers;
  leadInMs: number;
}

/** Trials running in this process, for {@link abandonTrials}. */
const live = new Set<Running>();

/**
 * Kills the routers of every running trial and removes their folders
 * (unless kept), synchronously: for a process about to exit on a signal.
 */
export function abandonTrials(): void {
  for (const r of live) {
    for (const p of r.routers.values()) p.proc.kill('SIGKILL');
    if (!r.keep) {
      rmSync(r.root, { recursive: true, force: true, maxRetries: 5 });
    }
  }
  live.clear();
}

async function settings(o: TrialOptions): Promise<Settings> {
  const seconds = o.seconds ?? 60;
  const ratePerSecond = o.ratePerSecond ?? 50;
  if (!(seconds > 0) || !(ratePerSecond > 0)) {
    throw new RangeError('seconds and ratePerSecond must be above 0');
  }
  return {
    profile: await loadProfile(o.profile, o.overrides ?? {}),
    seconds,
    ratePerSecond,
    count: Math.max(1, Math.round(seconds * ratePerSecond)),
    payloadBytes: o.payloadBytes ?? 256,
    seed: o.seed ?? randomSeed(),
    peerTimers: o.peerTimers ?? TRIAL_PEER_TIMERS,
    leadInMs: o.leadInMs ?? 4000,
  };
}

/**
 * Runs a trial and returns its figures; every process, socket and (unless
 * `keepDir`) file it made is gone when it settles.
 * @throws ProfileError, ProfileNotFoundError for a bad profile (before
 *   anything starts); RangeError for a rate or time not above 0;
 *   TrialSetupError when the uplink does not come up; a router's start
 *   error when one does not start.
 */
export async function runTrial(o: TrialOptions): Promise<TrialResult> {
  const set = await settings(o);
  const r: Running = {
    root: await mkdtemp(join(tmpdir(), 'wavemq-netem-')),
    keep: o.keepDir === true,
    routers: new Map(),
    publisherAgent: undefined,
    subscriber: undefined,
    link: undefined,
    poller: undefined,
  };
  live.add(r);
  try {
    return await trial(r, o, set);
  } finally {
    await tearDown(r);
    live.delete(r);
  }
}

async function trial(
  r: Running,
  o: TrialOptions,
  set: Settings,
): Promise<TrialResult> {
  const sentAtMs = new Float64Array(set.count).fill(NaN);
  const log = new DeliveryLog(set.count, sentAtMs);
  const { agent, link, poller, subscriber } = await bringUp(r, o, set, log);
  const { setupMs, publisher, timeline } = await runWorkload({
    relay: link,
    poller,
    log,
    publish: (_seq, payload) => agent.publish(TRIAL_URI, payload),
    ratePerSecond: set.ratePerSecond,
    payloadBytes: set.payloadBytes,
    seconds: set.seconds,
    leadInMs: set.leadInMs,
    drainTimeoutMs: o.drainTimeoutMs,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs,
    signal: o.signal,
  });
  return finishTrial({
    ...set,
    setupMs,
    publisher,
    log,
    poller,
    relay: 'relay' in link ? (link as RelayLink).relay.stats() : undefined,
    impairment: link.kind,
    timeline,
    subscriberErrors: subscriber.errors,
    network: o.network,
    dir: r.keep ? r.root : undefined,
  });
}

/**
 * Starts the designated router and its subscriber, the impaired link
 * (relay, or tc on the trunk path), the site router and its publisher
 * agent, and waits for the uplink.
 */
async function bringUp(
  r: Running,
  o: TrialOptions,
  set: Settings,
  log: DeliveryLog,
) {
  const relayPort = await freePort();
  const { dr, sites, ns } = await writeTierFiles(r.root, {
    siteCount: 1,
    peerTimers: set.peerTimers,
    uplinkPort: relayPort,
  });
  const site = sites[0]!;
  const pubId = await makeAgent(r.root, 'publisher', ns);
  const subId = await makeAgent(r.root, 'subscriber', ns);
  const side = routerSide(o.network);
  const tc = usesTc(o.network, set.profile) ? o.network : undefined;
  const peerHost = tc?.trunk.routerHost ?? side.host;
  await moveAddress(dr.configFile, dr.agentPort, side.host, dr.agentPort);
  await moveAddress(dr.configFile, dr.peerPort, peerHost, dr.peerPort);
  if (tc) await moveAddress(site.configFile, relayPort, peerHost, dr.peerPort);
  const netns = side.netns === undefined ? {} : { netns: side.netns };
  r.routers.set('dr', await startRouter(dr.configFile, quietRouter(), netns));
  const subscriber = new TrialSubscriber(side.host, dr.agentPort, subId, log);
  r.subscriber = subscriber;
  await subscriber.start(o.signal);
  const profile = shiftSchedule(set.profile, set.leadInMs);
  const link: TrialLink = tc
    ? await tcLink(tc, profile, o.applyTc)
    : await relayLink(relayPort, peerHost, dr.peerPort, profile, set.seed);
  r.link = link;
  r.routers.set('site', await startRouter(site.configFile, quietRouter()));
  const agent = await connectTrialAgent(
    '127.0.0.1',
    site.agentPort,
    pubId,
    o.signal,
  );
  r.publisherAgent = agent;
  const poller = new StatusPoller(agent, STATUS_INTERVAL_MS);
  r.poller = poller;
  await waitForUplink(poller, o.signal);
  poller.start();
  return { agent, link, poller, subscriber };
}

/** A link impaired by our UDP relay. */
type RelayLink = TrialLink & { relay: ImpairmentRelay };

/** The UDP relay from 127.0.0.1:`port` to the designated router. */
async function relayLink(
  port: number,
  host: string,
  upstreamPort: number,
  profile: Profile,
  seed: number,
): Promise<RelayLink> {
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port },
    upstream: { host, port: upstreamPort },
    profile,
    seed,
  });
  await relay.start();
  return {
    kind: 'relay',
    relay,
    stats: () => relay.stats(),
    stop: () => relay.stop(),
  };
}

/**
 * Rewrites `"127.0.0.1:<fromPort>"` in a config file to
 * `"<host>:<toPort>"` (a listener or the uplink moved onto a veth).
 */
async function moveAddress(
  file: string,
  fromPort: number,
  host: string,
  toPort: number,
): Promise<void> {
  if (host === '127.0.0.1' && fromPort === toPort) return;
  const text = await readFile(file, 'utf8');
  await writeFile(
    file,
    text.replaceAll(`"127.0.0.1:${fromPort}"`, `"${host}:${toPort}"`),
  );
}

/** Router processes log lifecycle events only (link up and down). */
function quietRouter(): NodeJS.ProcessEnv {
  return { WAVEMQ_LOG_LEVEL: 'info' };
}

async function waitForUplink(
  poller: StatusPoller,
  signal: AbortSignal | undefined,
): Promise<void> {
  const end = performance.now() + UPLINK_TIMEOUT_MS;
  while (performance.now() < end) {
    signal?.throwIfAborted();
    const s = await poller.poll();
    if (s.link === 'up') return;
    await sleep(100, signal);
  }
  throw new TrialSetupError(
    `the site's uplink did not come up within ${UPLINK_TIMEOUT_MS} ms`,
    { step: 'uplink', timeoutMs: UPLINK_TIMEOUT_MS },
  );
}

/** Stops everything `r` started; removes the folder unless kept. */
async function tearDown(r: Running): Promise<void> {
  await r.poller?.stop();
  await r.publisherAgent?.close().catch(() => undefined);
  await r.subscriber?.stop();
  for (const [name, p] of [...r.routers].reverse()) {
    await Promise.race([p.kill('SIGTERM'), sleep(STOP_GRACE_MS)]);
    await p.kill('SIGKILL');
    if (r.keep) await saveLog(r.root, name, p);
  }
  await r.link?.stop();
  if (!r.keep) await rm(r.root, { recursive: true, force: true });
}

/** Writes a router's log lines (JSON) to `<root>/<name>.log`. */
async function saveLog(
  root: string,
  name: string,
  p: RouterProcess,
): Promise<void> {
  const lines = p.logs.map((l) => JSON.stringify(l)).join('\n');
  await writeFile(join(root, `${name}.log`), lines + '\n').catch(
    (err: unknown) => {
      process.stderr.write(`cannot save ${name}.log: ${errorMessage(err)}\n`);
    },
  );
}
