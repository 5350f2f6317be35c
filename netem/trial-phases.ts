/**
 * The two timed phases of a trial: publishing at the set rate, then
 * waiting (bounded) for the site's backlog to drain and the deliveries
 * to settle; with progress reports throughout.
 */
import { sleep } from '../src/common/index.ts';
import type { Direction } from './profile-types.ts';
import type { LinkState } from './schedule.ts';
import type { Timeline } from './trial-result.ts';
import {
  PacedPublisher,
  type DeliveryLog,
  type PacedPublisherOptions,
} from './workload.ts';

/** A running trial's figures, for a progress line. */
export interface TrialProgress {
  phase: 'publishing' | 'draining';
  /** Since the start of publishing, ms. */
  elapsedMs: number;
  /** Publishing time, ms. */
  totalMs: number;
  published: number;
  delivered: number;
  /** Uplink backlog, messages; undefined when not (yet) known. */
  backlog: number | undefined;
  /** Site uplink state. */
  link: string;
  /** Relay link state up/down, e.g. `up/up` or `outage/outage`. */
  relay: string;
}

/** The impaired link as the phases see it (either relay). */
export interface LinkView {
  /** `elapsedMs` counts from the link's start. */
  stats(): { state: Record<Direction, LinkState>; elapsedMs: number };
}

/** A reading of the sending side's uplink. */
export interface UplinkReading {
  /** State of the uplink in the sender's own words. */
  link: string;
  /** Messages waiting to cross; undefined when it cannot be seen. */
  backlog: number | undefined;
  /** Messages its queues dropped, in total. */
  drops: number;
}

/** The sending side's uplink as the phases see it. */
export interface UplinkView {
  /** The latest reading; undefined before the first. */
  readonly latest: UplinkReading | undefined;
}

/** What the phases work with. */
export interface PhaseContext {
  relay: LinkView;
  poller: UplinkView;
  publisher: PacedPublisher;
  log: DeliveryLog;
  /** Publishing time, s. */
  seconds: number;
  /** The schedule's origin, performance.now() ms. */
  originMs: number;
  /** Longest wait for the drain after publishing, ms. */
  drainTimeoutMs: number;
  /** With an empty backlog and nothing arriving for this long, stop. */
  quietMs: number;
  onProgress: ((p: TrialProgress) => void) | undefined;
  progressIntervalMs: number;
  signal: AbortSignal | undefined;
}

/** After the last expected arrival, wait this long for duplicates, ms. */
const SETTLE_MS = 1500;
/** With an empty backlog and nothing arriving for this long, stop, ms. */
const DEFAULT_QUIET_MS = 10_000;
/** How often the drain condition is checked, ms. */
const CHECK_INTERVAL_MS = 100;

/** Publishes, then waits for the drain; reports progress meanwhile. */
export async function runPhases(c: PhaseContext): Promise<Timeline> {
  const startMs = performance.now();
  let phase: TrialProgress['phase'] = 'publishing';
  const report = () => c.onProgress?.(progressOf(c, phase, startMs));
  const timer = setInterval(report, c.progressIntervalMs);
  timer.unref();
  try {
    await c.publisher.run(c.signal ? { signal: c.signal } : {});
    const publishEndMs = performance.now();
    phase = 'draining';
    const completed = await waitForDrain(c, publishEndMs);
    report();
    return {
      originMs: c.originMs,
      publishStartMs: startMs,
      publishEndMs,
      endMs: performance.now(),
      completed,
    };
  } finally {
    clearInterval(timer);
  }
}

function progressOf(
  c: PhaseContext,
  phase: TrialProgress['phase'],
  startMs: number,
): TrialProgress {
  const state = c.relay.stats().state;
  return {
    phase,
    elapsedMs: performance.now() - startMs,
    totalMs: c.seconds * 1000,
    published: c.publisher.published,
    delivered: c.log.delivered,
    backlog: c.poller.latest?.backlog,
    link: c.poller.latest?.link ?? '?',
    relay: `${state.up}/${state.down}`,
  };
}

/**
 * Waits until the site's backlog is empty and every acknowledged publish
 * has arrived or was counted as dropped, then SETTLE_MS longer for late
 * duplicates; or until nothing arrives for `quietMs` with an empty
 * backlog; or until the bound. True when everything was accounted for.
 * A backlog that cannot be seen counts as empty once a reading exists.
 */
async function waitForDrain(
  c: PhaseContext,
  publishEndMs: number,
): Promise<boolean> {
  const boundMs = publishEndMs + c.drainTimeoutMs;
  while (performance.now() < boundMs && !c.signal?.aborted) {
    const s = c.poller.latest;
    const dropped = c.log.queueDrops + (s?.drops ?? 0);
    const empty = s !== undefined && (s.backlog ?? 0) === 0;
    if (empty && c.log.delivered + dropped >= c.publisher.published) {
      await sleep(SETTLE_MS, c.signal).catch(() => undefined);
      return true;
    }
    const lastMs = Math.max(c.log.lastReceivedAtMs, publishEndMs);
    if (empty && performance.now() - lastMs > c.quietMs) return false;
    await sleep(CHECK_INTERVAL_MS, c.signal).catch(() => undefined);
  }
  return false;
}

/** What {@link runWorkload} needs; times in ms. */
export interface WorkloadOptions {
  relay: LinkView;
  poller: UplinkView;
  log: DeliveryLog;
  publish: PacedPublisherOptions['publish'];
  ratePerSecond: number;
  payloadBytes: number;
  /** Publishing time, s. */
  seconds: number;
  /** From the link's start to the schedule's origin. */
  leadInMs: number;
  /** Default 120 000. */
  drainTimeoutMs: number | undefined;
  /**
   * Nothing arriving for this long with an empty backlog ends the drain
   * early; default 10 000. A sender whose backlog cannot be seen needs
   * more than its longest reconnect delay.
   */
  quietMs?: number;
  onProgress: ((p: TrialProgress) => void) | undefined;
  /** Default 250. */
  progressIntervalMs: number | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Waits for the schedule's origin (`leadInMs` after the link started),
 * publishes the log's messages at the set rate, and waits for the drain.
 */
export async function runWorkload(o: WorkloadOptions): Promise<{
  setupMs: number;
  publisher: PacedPublisher;
  timeline: Timeline;
}> {
  const setupMs = o.relay.stats().elapsedMs;
  const publisher = new PacedPublisher({
    publish: o.publish,
    count: o.log.count,
    ratePerSecond: o.ratePerSecond,
    payloadBytes: o.payloadBytes,
    sentAtMs: o.log.sentAtMs,
    onFailed: (seq) => o.log.abandon(seq),
  });
  const originMs = performance.now() - setupMs + o.leadInMs;
  await sleep(originMs - performance.now(), o.signal);
  const timeline = await runPhases({
    relay: o.relay,
    poller: o.poller,
    publisher,
    log: o.log,
    seconds: o.seconds,
    originMs,
    drainTimeoutMs: o.drainTimeoutMs ?? 120_000,
    quietMs: o.quietMs ?? DEFAULT_QUIET_MS,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs ?? 250,
    signal: o.signal,
  });
  return { setupMs, publisher, timeline };
}
