import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { QUEUE_KINDS, type QueueKind } from './types.ts';

/** Per-kind totals that the gauges report at scrape time. */
export interface QueueKindSample {
  queues: number;
  depth: number;
  bytes: number;
  /** Age of the oldest stored item of this kind, in ms; 0 when none. */
  oldestAgeMs: number;
}

/** Why items left a queue without being acknowledged. */
export type DropReason = 'length' | 'bytes' | 'age';

/** The queue metrics of one router, from {@link createQueueMetrics}. */
export interface QueueMetrics {
  /** Items dropped by limits, by kind and reason. */
  drops: Counter<'kind' | 'reason'>;
  /** Items appended (durable), by kind. */
  appends: Counter<'kind'>;
  /** Payload bytes appended (durable), by kind. */
  appendedBytes: Counter<'kind'>;
  /** Items removed by consumer acks, by kind. */
  acked: Counter<'kind'>;
  /** Queues deleted by the sweep for being idle, by kind. */
  expired: Counter<'kind'>;
  /** Appends refused, by kind and reason (`too_large`). */
  rejected: Counter<'kind' | 'reason'>;
  /** Synced batch writes. */
  commits: Counter<never>;
  /** Failed batch writes (callers got a QueueWriteError). */
  commitFailures: Counter<never>;
  /** Calls (appends, acks, ...) sharing one synced write. */
  commitCalls: Histogram;
  /** Items appended by one synced write. */
  commitItems: Histogram;
  /** Time to build and sync one batch, in seconds. */
  commitSeconds: Histogram;
  /** Where the gauges read per-kind totals; set by the queue manager. */
  sample: (() => Map<QueueKind, QueueKindSample>) | undefined;
}

function kindGauge(
  registry: Registry,
  m: QueueMetrics,
  name: string,
  help: string,
  pick: (s: QueueKindSample) => number,
): Gauge<'kind'> {
  return new Gauge({
    name,
    help,
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const samples = m.sample?.();
      for (const kind of QUEUE_KINDS) {
        const s = samples?.get(kind);
        this.set({ kind }, s ? pick(s) : 0);
      }
    },
  });
}

const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const SECONDS_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1];

/** Gauges read at scrape time: [name, help, value of one kind's sample]. */
const KIND_GAUGES: [string, string, (s: QueueKindSample) => number][] = [
  ['wavemq_queue_count', 'Queues held', (s) => s.queues],
  ['wavemq_queue_depth', 'Items stored in queues', (s) => s.depth],
  ['wavemq_queue_bytes', 'Payload bytes stored in queues', (s) => s.bytes],
  [
    'wavemq_queue_oldest_age_seconds',
    'Age of the oldest stored item, in seconds',
    (s) => s.oldestAgeMs / 1000,
  ],
];

type Registers = Registry[];

function counter<L extends string>(
  registers: Registers,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  return new Counter({ name, help, labelNames, registers });
}

function itemCounters(r: Registers) {
  return {
    drops: counter(
      r,
      'wavemq_queue_drops_total',
      'Items dropped by queue limits (oldest first)',
      ['kind', 'reason'],
    ),
    appends: counter(
      r,
      'wavemq_queue_appends_total',
      'Items durably appended to queues',
      ['kind'],
    ),
    appendedBytes: counter(
      r,
      'wavemq_queue_appended_bytes_total',
      'Payload bytes durably appended to queues',
      ['kind'],
    ),
    acked: counter(
      r,
      'wavemq_queue_acked_total',
      'Items removed from queues by consumer acks',
      ['kind'],
    ),
    expired: counter(
      r,
      'wavemq_queue_expired_total',
      'Queues deleted for being idle past their expiry',
      ['kind'],
    ),
    rejected: counter(
      r,
      'wavemq_queue_rejected_total',
      'Appends refused (item larger than the queue may hold)',
      ['kind', 'reason'],
    ),
  };
}

function commitMetrics(registers: Registers) {
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, buckets, registers });
  return {
    commits: counter(
      registers,
      'wavemq_queue_commits_total',
      'Synced batch writes of the queue store',
      [],
    ),
    commitFailures: counter(
      registers,
      'wavemq_queue_commit_failures_total',
      'Batch writes of the queue store that failed',
      [],
    ),
    commitCalls: histogram(
      'wavemq_queue_commit_calls',
      'Calls sharing one synced write (group commit)',
      BATCH_BUCKETS,
    ),
    commitItems: histogram(
      'wavemq_queue_commit_items',
      'Items appended by one synced write',
      [0, ...BATCH_BUCKETS],
    ),
    commitSeconds: histogram(
      'wavemq_queue_commit_seconds',
      'Time to build and sync one batch write, in seconds',
      SECONDS_BUCKETS,
    ),
  };
}

/**
 * Declares the queue metrics (`wavemq_queue_*`) in `registry`, labelled by
 * queue kind, never by queue id (ids are unbounded). Call once per
 * registry.
 */
export function createQueueMetrics(registry: Registry): QueueMetrics {
  const m: QueueMetrics = {
    ...itemCounters([registry]),
    ...commitMetrics([registry]),
    sample: undefined,
  };
  for (const [name, help, pick] of KIND_GAUGES) {
    kindGauge(registry, m, name, help, pick);
  }
  return m;
}

/** Names of every metric {@link createQueueMetrics} declares. */
export const QUEUE_METRIC_NAMES: readonly string[] = [
  'wavemq_queue_drops_total',
  'wavemq_queue_appends_total',
  'wavemq_queue_appended_bytes_total',
  'wavemq_queue_acked_total',
  'wavemq_queue_expired_total',
  'wavemq_queue_rejected_total',
  'wavemq_queue_commits_total',
  'wavemq_queue_commit_failures_total',
  'wavemq_queue_commit_calls',
  'wavemq_queue_commit_items',
  'wavemq_queue_commit_seconds',
  'wavemq_queue_count',
  'wavemq_queue_depth',
  'wavemq_queue_bytes',
  'wavemq_queue_oldest_age_seconds',
];
