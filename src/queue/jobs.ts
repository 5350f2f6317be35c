/** The batch jobs behind appendMany and ack. */
import type { QueueId } from '../common/ids.ts';
import {
  QueueAckOutOfRangeError,
  QueueItemTooLargeError,
  QueueNotFoundError,
} from './errors.ts';
import type { CommitJob } from './group-commit.ts';
import type { QueueMetrics } from './metrics.ts';
import { ackUpTo, appendItem } from './mutations.ts';
import type { QueueCore } from './queue-core.ts';
import { newItemValue } from './records.ts';
import type { Tx } from './tx.ts';

/** An appendMany entry, checked and copied when the call is made. */
export interface PreparedAppend {
  queue: QueueId;
  /** Stored item value: header room, then a copy of the payload. */
  value: Uint8Array;
  sizeBytes: number;
  enqueuedAtMs: number;
}

/**
 * Checks that `core` exists and can hold the item.
 * @throws QueueNotFoundError or QueueItemTooLargeError.
 */
export function checkAppend(
  core: QueueCore | undefined,
  p: { queue: QueueId; sizeBytes: number },
  metrics: QueueMetrics,
): asserts core is QueueCore {
  if (!core) {
    throw new QueueNotFoundError('queue not found', { queue: p.queue });
  }
  const maxBytes = core.spec.limits.maxBytes;
  if (p.sizeBytes > maxBytes) {
    metrics.rejected.inc({ kind: core.spec.kind, reason: 'too_large' });
    throw new QueueItemTooLargeError('item larger than the queue holds', {
      queue: p.queue,
      sizeBytes: p.sizeBytes,
      maxBytes,
    });
  }
}

/**
 * Checks every entry against the committed queues and copies payloads
 * (callers may reuse their buffers as soon as appendMany returns).
 * @throws QueueNotFoundError or QueueItemTooLargeError; nothing queued.
 */
export function prepareAppends(
  entries: { queue: QueueId; bytes: Uint8Array }[],
  cores: Map<QueueId, QueueCore>,
  nowMs: number,
  metrics: QueueMetrics,
): PreparedAppend[] {
  for (const e of entries) {
    checkAppend(
      cores.get(e.queue),
      {
        queue: e.queue,
        sizeBytes: e.bytes.length,
      },
      metrics,
    );
  }
  return entries.map((e) => ({
    queue: e.queue,
    value: newItemValue(e.bytes),
    sizeBytes: e.bytes.length,
    enqueuedAtMs: nowMs,
  }));
}

/** Appends prepared entries in order; checks them again in the batch. */
export function appendJob(
  prepared: PreparedAppend[],
  metrics: QueueMetrics,
  marks: { key: Uint8Array; value: Uint8Array }[] = [],
): CommitJob<Tx, { queue: QueueId; seq: number }[]> {
  return {
    validate: (tx) => {
      // The queue may have been deleted, or its limits lowered, since.
      for (const p of prepared) checkAppend(tx.lookup(p.queue), p, metrics);
    },
    apply: async (tx) => {
      const out: { queue: QueueId; seq: number }[] = [];
      for (const p of prepared) {
        const core = tx.lookup(p.queue) as QueueCore;
        const seq = await appendItem(tx, core, p.value, p.enqueuedAtMs);
        out.push({ queue: p.queue, seq });
      }
      for (const m of marks) {
        tx.ops.push({ type: 'put', key: m.key, value: m.value });
      }
      return out;
    },
  };
}

/** Removes items <= uptoSeq of `core`; rejects seqs never assigned. */
export function ackJob(core: QueueCore, uptoSeq: number): CommitJob<Tx, void> {
  return {
    validate: (tx) => {
      if (tx.lookup(core.id) !== core) {
        throw new QueueNotFoundError('queue not found', { queue: core.id });
      }
      const tailSeq = (tx.work.get(core) ?? core.counters).tailSeq;
      if (!Number.isSafeInteger(uptoSeq) || uptoSeq > tailSeq) {
        throw new QueueAckOutOfRangeError('ack beyond the last seq', {
          queue: core.id,
          uptoSeq,
          tailSeq,
        });
      }
    },
    apply: async (tx) => {
      await ackUpTo(tx, core, uptoSeq);
    },
  };
}

/**
 * Deletes each of `keys` whose value, as of this point in the commit
 * order (earlier batches and earlier jobs of this batch included), makes
 * `stale` true; resolves with the keys deleted.
 */
export function deleteMarksJob(
  keys: Uint8Array[],
  stale: (value: Uint8Array) => boolean,
): CommitJob<Tx, Uint8Array[]> {
  return {
    apply: async (tx) => {
      const inBatch = new Map<string, Uint8Array | undefined>();
      for (const op of tx.ops) {
        if (!isMarkKey(op.key)) continue;
        const k = Buffer.from(op.key).toString('latin1');
        inBatch.set(k, op.type === 'put' ? op.value : undefined);
      }
      const deleted: Uint8Array[] = [];
      for (const key of keys) {
        const k = Buffer.from(key).toString('latin1');
        const value = inBatch.has(k) ? inBatch.get(k) : await tx.kv.get(key);
        if (value === undefined || !stale(value)) continue;
        tx.ops.push({ type: 'del', key });
        inBatch.set(k, undefined);
        deleted.push(key);
      }
      return deleted;
    },
  };
}

/** True for a key of a router table (0x10..0x1f), as marks are. */
export function isMarkKey(key: Uint8Array): boolean {
  const tag = key[0];
  return tag !== undefined && tag >= 0x10 && tag <= 0x1f;
}
