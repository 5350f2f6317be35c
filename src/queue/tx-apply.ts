/**
 * Batch steps that span queues (ensure, sweep, checkpoint) and the
 * installation of a durable batch into the in-memory queue state.
 */
import { WavemqError } from '../common/errors.ts';
import type { QueueId } from '../common/ids.ts';
import type { Logger } from '../common/logger.ts';
import type { QueueKindSample, QueueMetrics } from './metrics.ts';
import { dropAged, makeRoom } from './mutations.ts';
import { QueueCore, type QueueHost } from './queue-core.ts';
import { emptyCounters, encodeSpec, encodeTime } from './records.ts';
import { ALIVE_KEY } from './recovery.ts';
import type { Tx } from './tx.ts';
import { canExpire, type QueueKind, type QueueSpec } from './types.ts';

/**
 * Most aged items one sweep batch looks at per queue; the sweep runs
 * further batches until none is left, so one huge backlog never makes
 * one batch (and the appends waiting behind it) huge.
 */
export const AGE_SCAN_MAX = 10_000;

/** Interval between drop warnings for one queue (drops are counted always). */
export const DROP_WARN_INTERVAL_MS = 60_000;

/**
 * The queue was deleted earlier in the same batch; ensureQueue waits for
 * the deletion to finish and tries again. Never leaves queue/.
 */
export class EnsureRetry extends WavemqError<Record<string, never>> {
  readonly code = 'QUEUE_ENSURE_RETRY';
  constructor() {
    super('queue deleted in the same batch', {});
  }
}

function sameSpec(a: QueueSpec, b: QueueSpec): boolean {
  return Buffer.from(encodeSpec(a)).equals(encodeSpec(b));
}

/**
 * Creates queue `id`, or updates its spec and trims it to new limits.
 *
 * Shortcoming: a queue created under the id of a deleted (or expired)
 * one starts again at seq 1, as nothing of the old queue is kept. A
 * consumer that still holds an ack position from the old queue gets
 * QueueAckOutOfRangeError for seqs above the new tail, but an old
 * position below it would ack new items; callers must drop consumer
 * positions when a queue is deleted.
 */
export async function ensureInTx(
  tx: Tx,
  host: QueueHost,
  id: QueueId,
  spec: QueueSpec,
): Promise<QueueCore> {
  const nowMs = host.clock.now();
  const existing = tx.lookup(id);
  if (!existing) {
    const core = new QueueCore(host, id, spec, emptyCounters(), nowMs);
    tx.created.set(id, core);
    tx.specs.set(core, spec);
    tx.counters(core);
    return core;
  }
  existing.touch();
  if (!sameSpec(tx.spec(existing), spec)) {
    tx.specs.set(existing, spec);
    await makeRoom(tx, existing, 0, 0);
  }
  return existing;
}

function isIdleExpired(core: QueueCore, nowMs: number): boolean {
  const idle = core.spec.idleExpiryMs;
  if (!canExpire(core.spec) || idle === undefined) return false;
  return nowMs - core.lastTouchMs >= idle;
}

/**
 * One sweep batch: deletes idle queues, drops aged items (at most
 * AGE_SCAN_MAX per queue) and checkpoints. Returns true when aged items
 * may remain.
 *
 * Shortcoming: ages and idle times are wall-clock differences, so a step
 * of the clock (a device without a battery-backed clock getting its
 * first NTP answer) ages every item and idles every queue by the step
 * at once. Router downtime alone is not counted (see recovery.ts).
 */
export async function sweepInTx(
  tx: Tx,
  cores: Iterable<QueueCore>,
  nowMs: number,
): Promise<boolean> {
  let more = false;
  const all = [...cores];
  for (const core of all) {
    if (tx.lookup(core.id) !== core) continue;
    // A consumer blocked waiting for items is attached.
    if (core.hasWaiters) core.touch();
    if (isIdleExpired(core, nowMs)) {
      tx.deleteQueue(core, true);
      continue;
    }
    const maxAgeMs = core.spec.limits.maxAgeMs;
    if (isFinite(maxAgeMs)) {
      const cutoffMs = nowMs - maxAgeMs;
      more = (await dropAged(tx, core, cutoffMs, AGE_SCAN_MAX)) || more;
    }
  }
  checkpointInTx(tx, all, nowMs);
  return more;
}

/**
 * Persists touch times that changed and the last-alive time, which
 * recovery uses so router downtime does not count as idle time.
 */
export function checkpointInTx(
  tx: Tx,
  cores: Iterable<QueueCore>,
  nowMs: number,
): void {
  for (const core of cores) {
    if (core.touchDirty && tx.lookup(core.id) === core) tx.counters(core);
  }
  tx.ops.push({ type: 'put', key: ALIVE_KEY, value: encodeTime(nowMs) });
}

/** What installCommit needs from the manager. */
export interface InstallContext {
  cores: Map<QueueId, QueueCore>;
  metrics: QueueMetrics;
  logger: Logger;
  nowMs: number;
  /** Last drop warning per queue (ms); entries go with their queue. */
  dropWarnedAtMs: Map<QueueId, number>;
}

/** Makes a durable batch visible: queues, counters, waiters, metrics. */
export function installCommit(tx: Tx, ctx: InstallContext): void {
  for (const [id, core] of tx.created) ctx.cores.set(id, core);
  for (const [core, spec] of tx.specs) core.spec = spec;
  for (const [core, counters] of tx.work) {
    if (!tx.deleted.has(core.id)) core.commit(counters);
  }
  for (const [id, { core, expired }] of tx.deleted) {
    ctx.cores.delete(id);
    ctx.dropWarnedAtMs.delete(id);
    core.markDeleted();
    if (expired) ctx.metrics.expired.inc({ kind: core.spec.kind });
    ctx.logger.info(
      { queue: id, kind: core.spec.kind, expired, items: core.length },
      'queue deleted',
    );
  }
  recordMetrics(tx, ctx);
}

function recordMetrics(tx: Tx, ctx: InstallContext): void {
  const m = ctx.metrics;
  let items = 0;
  for (const [core, a] of tx.appended) {
    m.appends.inc({ kind: core.spec.kind }, a.items);
    m.appendedBytes.inc({ kind: core.spec.kind }, a.bytes);
    items += a.items;
  }
  for (const [core, n] of tx.acked) {
    if (n > 0) m.acked.inc({ kind: core.spec.kind }, n);
  }
  for (const d of tx.drops) {
    m.drops.inc({ kind: d.core.spec.kind, reason: d.reason }, d.count);
    warnDrop(ctx, d.core, d.reason, d.count);
  }
  m.commitItems.observe(items);
}

function warnDrop(
  ctx: InstallContext,
  core: QueueCore,
  reason: string,
  count: number,
): void {
  const last = ctx.dropWarnedAtMs.get(core.id);
  if (last !== undefined && ctx.nowMs - last < DROP_WARN_INTERVAL_MS) return;
  ctx.dropWarnedAtMs.set(core.id, ctx.nowMs);
  ctx.logger.warn(
    {
      queue: core.id,
      kind: core.spec.kind,
      reason,
      dropped: count,
      drops: core.counters.drops,
    },
    'queue full: dropped oldest items',
  );
}

/** Per-kind totals of `cores`, for the gauges. */
export function sampleByKind(
  cores: Iterable<QueueCore>,
  nowMs: number,
): Map<QueueKind, QueueKindSample> {
  const out = new Map<QueueKind, QueueKindSample>();
  for (const core of cores) {
    const kind = core.spec.kind;
    const s = out.get(kind) ?? {
      queues: 0,
      depth: 0,
      bytes: 0,
      oldestAgeMs: 0,
    };
    s.queues += 1;
    s.depth += core.length;
    s.bytes += core.bytes;
    if (core.length > 0) {
      const ageMs = nowMs - core.counters.headEnqueuedAtMs;
      s.oldestAgeMs = Math.max(s.oldestAgeMs, ageMs);
    }
    out.set(kind, s);
  }
  return out;
}
