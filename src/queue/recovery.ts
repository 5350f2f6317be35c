import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { QueueId } from '../common/ids.ts';
import { errorMessage } from '../common/errors.ts';
import {
  idOfKey,
  itemKey,
  itemRangeEnd,
  seqOfItemKey,
  storeKey,
  tableRange,
  TAG_COUNTERS,
  TAG_ITEM,
  TAG_SPEC,
} from './keys.ts';
import type { KvStore } from './kv-store.ts';
import {
  decodeCounters,
  decodeSpec,
  decodeTime,
  type QueueCounters,
} from './records.ts';
import type { QueueSpec } from './types.ts';

/** Store key of the last time the manager was known to run (ms). */
export const ALIVE_KEY = storeKey('alive');

/** A queue as found in the store. */
export interface RecoveredQueue {
  id: QueueId;
  spec: QueueSpec;
  counters: QueueCounters;
  /** Last touch, shifted so time the router was down does not count. */
  lastTouchMs: number;
}

/** Outcome of {@link recoverQueues}. */
export interface Recovery {
  queues: RecoveredQueue[];
  /** Ids whose records could not be read; left untouched in the store. */
  unreadable: QueueId[];
  /** Item ranges cleared: leftovers of deletions and large removals. */
  rangesCleared: number;
}

async function readSpecs(
  kv: KvStore,
  logger: Logger,
  unreadable: Set<QueueId>,
): Promise<Map<QueueId, QueueSpec>> {
  const specs = new Map<QueueId, QueueSpec>();
  for await (const [key, value] of kv.scan(tableRange(TAG_SPEC))) {
    const id = idOfKey(key) as QueueId;
    try {
      specs.set(id, decodeSpec(value));
    } catch (err) {
      // Left in place: a later version may read it; the queue stays out.
      unreadable.add(id);
      logger.error(
        { queue: id, err: errorMessage(err) },
        'queue spec unreadable',
      );
    }
  }
  return specs;
}

async function readCounters(
  kv: KvStore,
  specs: Map<QueueId, QueueSpec>,
  logger: Logger,
  unreadable: Set<QueueId>,
): Promise<Map<QueueId, { counters: QueueCounters; lastTouchMs: number }>> {
  const out = new Map<
    QueueId,
    { counters: QueueCounters; lastTouchMs: number }
  >();
  const orphans: Uint8Array[] = [];
  for await (const [key, value] of kv.scan(tableRange(TAG_COUNTERS))) {
    const id = idOfKey(key) as QueueId;
    if (!specs.has(id) && !unreadable.has(id)) {
      orphans.push(key);
      continue;
    }
    try {
      out.set(id, decodeCounters(value));
    } catch (err) {
      unreadable.add(id);
      logger.error(
        { queue: id, err: errorMessage(err) },
        'queue counters unreadable',
      );
    }
  }
  if (orphans.length > 0) {
    await kv.write(
      orphans.map((key) => ({ type: 'del', key })),
      { sync: false },
    );
  }
  return out;
}

/**
 * Clears items no queue owns (queue deleted before its items were) and
 * items below a queue's head (removed, not yet cleared). One seek per
 * queue id present in the item table.
 */
async function clearLeftoverItems(
  kv: KvStore,
  heads: Map<QueueId, number>,
  unreadable: Set<QueueId>,
): Promise<number> {
  let cleared = 0;
  const end = tableRange(TAG_ITEM).lt;
  let range: { gte?: Uint8Array; gt?: Uint8Array; lt: Uint8Array; limit: 1 } = {
    gte: Uint8Array.of(TAG_ITEM),
    lt: end,
    limit: 1,
  };
  for (;;) {
    let first: Uint8Array | undefined;
    for await (const [key] of kv.scan(range)) first = key;
    if (!first) return cleared;
    const id = idOfKey(first) as QueueId;
    const head = heads.get(id) ?? (unreadable.has(id) ? 0 : Infinity);
    const seq = seqOfItemKey(first);
    if (seq < head) {
      const lt = isFinite(head) ? itemKey(id, head) : itemRangeEnd(id);
      await kv.clear({ gte: first, lt });
      cleared += 1;
    }
    range = { gt: itemRangeEnd(id), lt: end, limit: 1 };
  }
}

/**
 * Reads every queue from the store and tidies what a crash or a large
 * removal left behind. Idle clocks resume where they stopped: the time
 * between the last sign of life (`ALIVE_KEY`) and now is not counted, so
 * a long outage of the router does not expire its subscribers' queues.
 */
export async function recoverQueues(
  kv: KvStore,
  clock: Clock,
  logger: Logger,
): Promise<Recovery> {
  const unreadable = new Set<QueueId>();
  const specs = await readSpecs(kv, logger, unreadable);
  const counters = await readCounters(kv, specs, logger, unreadable);
  const aliveBytes = await kv.get(ALIVE_KEY);
  const aliveMs = aliveBytes ? decodeTime(aliveBytes) : undefined;
  const nowMs = clock.now();
  const queues: RecoveredQueue[] = [];
  for (const [id, spec] of specs) {
    const c = counters.get(id);
    if (!c) {
      if (!unreadable.has(id)) {
        unreadable.add(id);
        logger.error({ queue: id }, 'queue counters missing');
      }
      continue;
    }
    const idleMs =
      aliveMs === undefined ? 0 : Math.max(0, aliveMs - c.lastTouchMs);
    queues.push({
      id,
      spec,
      counters: c.counters,
      lastTouchMs: nowMs - idleMs,
    });
  }
  const heads = new Map(queues.map((q) => [q.id, q.counters.headSeq]));
  const rangesCleared = await clearLeftoverItems(kv, heads, unreadable);
  const recovery = { queues, unreadable: [...unreadable], rangesCleared };
  logRecovery(logger, recovery);
  return recovery;
}

function logRecovery(logger: Logger, r: Recovery): void {
  const byKind: Record<string, number> = {};
  let items = 0;
  let bytes = 0;
  for (const q of r.queues) {
    byKind[q.spec.kind] = (byKind[q.spec.kind] ?? 0) + 1;
    items += q.counters.tailSeq - q.counters.headSeq + 1;
    bytes += q.counters.tailCumBytes - q.counters.headCumBytes;
  }
  logger.info(
    {
      queues: r.queues.length,
      byKind,
      items,
      bytes,
      unreadable: r.unreadable.length,
      rangesCleared: r.rangesCleared,
    },
    'queues recovered',
  );
}
