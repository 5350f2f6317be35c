/**
 * The figures of a finished trial, computed from what the publisher,
 * the subscriber's delivery log and the site's status readings saw.
 */
import type { Profile } from './profile-types.ts';
import type { RelayStats } from './relay.ts';
import type { PeerTimers } from './topology.ts';
import type { TrialNetwork } from './trial-network.ts';
import {
  drainDoneAt,
  drainReference,
  type DrainReference,
} from './trial-drain.ts';
import type { SiteStatus, StatusPoller } from './trial-status.ts';
import type { DeliveryLog, PacedPublisher } from './workload.ts';

/** Times of a trial on performance.now()'s clock, ms. */
export interface Timeline {
  /** The schedule's origin: where its times count from. */
  originMs: number;
  publishStartMs: number;
  /** When the last publish was acknowledged (or failed). */
  publishEndMs: number;
  /** When the wait for the drain ended. */
  endMs: number;
  /** True when everything was accounted for before the wait's bound. */
  completed: boolean;
}

/** What a trial measured. Times in ms; counts in messages. */
export interface TrialResult extends Figures {
  /** The profile as run; schedule times count from publishing's start. */
  profile: Profile;
  seed: number;
  seconds: number;
  ratePerSecond: number;
  payloadBytes: number;
  peerTimers: PeerTimers;
  leadInMs: number;
  /** From the relay's start to the site's uplink being up. */
  setupMs: number;
  /** Publishing began this long after the schedule's origin. */
  lateStartMs: number;
  /** Actual publishing time. */
  publishMs: number;
  /** True when the drain wait ended with everything accounted for. */
  completed: boolean;
  /** The site's last status reading, and the last failure to read it. */
  site: SiteStatus | undefined;
  siteError: string | undefined;
  /** The relay's counters; undefined when tc impaired the link. */
  relay: RelayStats | undefined;
  /** What impaired the link: `relay` or `tc netem`. */
  impairment: string;
  /** Failures of the subscriber's own link (resumed each time). */
  subscriberErrors: string[];
  /** The namespaces it ran in; undefined on loopback. */
  network: TrialNetwork | undefined;
  /** The kept temporary folder, if any. */
  dir: string | undefined;
}

/** What {@link finishTrial} works from. */
export interface TrialFacts {
  profile: Profile;
  seed: number;
  seconds: number;
  ratePerSecond: number;
  payloadBytes: number;
  peerTimers: PeerTimers;
  leadInMs: number;
  setupMs: number;
  publisher: PacedPublisher;
  log: DeliveryLog;
  poller: StatusPoller;
  relay: RelayStats | undefined;
  impairment: string;
  timeline: Timeline;
  subscriberErrors: string[];
  network: TrialNetwork | undefined;
  dir: string | undefined;
}

/** Computes the result of a trial. */
export function finishTrial(f: TrialFacts): TrialResult {
  const t = f.timeline;
  return {
    profile: f.profile,
    seed: f.seed,
    seconds: f.seconds,
    ratePerSecond: f.ratePerSecond,
    payloadBytes: f.payloadBytes,
    peerTimers: f.peerTimers,
    leadInMs: f.leadInMs,
    setupMs: Math.round(f.setupMs),
    lateStartMs: Math.max(0, Math.round(t.publishStartMs - t.originMs)),
    ...figuresOf({
      ...f,
      senderDrops: f.poller.latest?.drops ?? 0,
      firstEmptyAfter: (ms) => f.poller.firstEmptyAfter(ms),
    }),
    publishMs: Math.round(t.publishEndMs - t.publishStartMs),
    completed: t.completed,
    site: f.poller.latest,
    siteError: f.poller.lastError,
    relay: f.relay,
    impairment: f.impairment,
    subscriberErrors: f.subscriberErrors,
    network: f.network,
    dir: f.dir,
  };
}

/** What {@link figuresOf} works from. */
export interface FigureFacts {
  profile: Profile;
  publisher: PacedPublisher;
  log: DeliveryLog;
  timeline: Timeline;
  /** Drops counted on the sending side (the site's trunk queue). */
  senderDrops: number;
  /**
   * First reading at or after a time of an empty sending-side backlog,
   * ms; return the time itself when the backlog cannot be seen.
   */
  firstEmptyAfter: (ms: number) => number | undefined;
}

/** The counted figures of a run: the same for wavemq and a baseline. */
export interface Figures {
  /** Publishes the site router (or broker) acknowledged. */
  published: number;
  /** Publishes that failed, and the first failure's text. */
  failed: number;
  firstError: string | undefined;
  /** Distinct messages the subscriber received. */
  delivered: number;
  /** Drops counted by queues: sending side plus subscriber queue. */
  dropped: number;
  trunkDrops: number;
  queueDrops: number;
  duplicated: number;
  reordered: number;
  /** Messages received that the trial did not publish. */
  foreign: number;
  /** published - delivered - dropped, never below 0. */
  unexplained: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxLatencyMs: number | null;
  /** Time to drain after `drainFrom`; null when it never did. */
  drainMs: number | null;
  /** Where the drain is measured from (ms after the schedule's origin). */
  drainFrom: DrainReference;
}

/** Counts, latencies and the drain of a run. */
export function figuresOf(f: FigureFacts): Figures {
  return { ...countsOf(f), ...drainOf(f) };
}

/** The message counts and latencies of a run. */
function countsOf(f: FigureFacts) {
  const trunkDrops = f.senderDrops;
  const dropped = trunkDrops + f.log.queueDrops;
  const published = f.publisher.published;
  const sorted = [...f.log.latenciesMs].sort((a, b) => a - b);
  return {
    published,
    failed: f.publisher.failed,
    firstError: f.publisher.firstError,
    delivered: f.log.delivered,
    dropped,
    trunkDrops,
    queueDrops: f.log.queueDrops,
    duplicated: f.log.duplicated,
    reordered: f.log.reordered,
    foreign: f.log.foreign,
    unexplained: Math.max(0, published - f.log.delivered - dropped),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxLatencyMs: percentile(sorted, 100),
  };
}

/**
 * The drain: from the end of the last down window that began while
 * publishing (or the end of publishing) until everything published
 * before then had arrived and, if publishing was over, the sending
 * side's backlog was empty.
 */
function drainOf(f: FigureFacts): {
  drainMs: number | null;
  drainFrom: DrainReference;
} {
  const t = f.timeline;
  const ref = drainReference(f.profile.schedule, t.publishEndMs - t.originMs);
  const refMs = t.originMs + ref.atMs;
  let before = 0;
  for (const at of f.log.sentAtMs) {
    if (!Number.isNaN(at) && at < refMs) before += 1;
  }
  const done = drainDoneAt({
    refMs,
    publishEndMs: t.publishEndMs,
    allArrivedMs: f.log.allReceivedBelow(before),
    firstEmptyMs: f.firstEmptyAfter(refMs),
  });
  return {
    drainMs: done === undefined ? null : Math.max(0, Math.round(done - refMs)),
    drainFrom: ref,
  };
}

/**
 * The nearest-rank percentile `p` (0-100) of ascending `sorted`, rounded
 * to a millisecond; null when empty.
 */
export function percentile(
  sorted: readonly number[],
  p: number,
): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return Math.round(sorted[rank - 1]!);
}
