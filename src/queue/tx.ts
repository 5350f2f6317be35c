import type { QueueId } from '../common/ids.ts';
import { invariant } from '../common/errors.ts';
import { countersKey, itemKey, seqOfItemKey, specKey } from './keys.ts';
import type { KvOp, KvStore } from './kv-store.ts';
import type { DropReason } from './metrics.ts';
import type { QueueCore } from './queue-core.ts';
import {
  decodeItemValue,
  encodeCounters,
  encodeSpec,
  type QueueCounters,
} from './records.ts';
import type { QueueSpec } from './types.ts';

/** Position facts of one stored item, without its payload. */
export interface ItemMeta {
  seq: number;
  /** Bytes appended to the queue before this item. */
  cumBytes: number;
  enqueuedAtMs: number;
}

/**
 * Removals of more items than this are not deleted key by key in the
 * batch; the advanced head hides them at once and a range clear after the
 * commit reclaims the space (recovery finishes it after a crash).
 */
export const INLINE_DELETE_MAX = 1024;

/** Items removed from one queue for one reason. */
export interface DropEvent {
  core: QueueCore;
  reason: DropReason;
  count: number;
}

/**
 * One group-commit batch being built: operations to write, and working
 * copies of the queues it changes. Nothing here touches committed state;
 * the manager installs the working copies once the batch is durable.
 */
export class Tx {
  readonly ops: KvOp[] = [];
  /** Item ranges [fromSeq, toSeq) to clear after the commit. */
  readonly clears: { id: QueueId; fromSeq: number; toSeq: number }[] = [];
  readonly created = new Map<QueueId, QueueCore>();
  readonly deleted = new Map<QueueId, { core: QueueCore; expired: boolean }>();
  readonly specs = new Map<QueueCore, QueueSpec>();
  readonly work = new Map<QueueCore, QueueCounters>();
  readonly appended = new Map<QueueCore, { items: number; bytes: number }>();
  readonly acked = new Map<QueueCore, number>();
  readonly drops: DropEvent[] = [];
  /** Items appended by this batch, per queue, in seq order. */
  private readonly pending = new Map<QueueCore, ItemMeta[]>();

  constructor(
    readonly kv: KvStore,
    private readonly committed: (id: QueueId) => QueueCore | undefined,
  ) {}

  /** The queue as this batch sees it (created or deleted in it counts). */
  lookup(id: QueueId): QueueCore | undefined {
    if (this.deleted.has(id)) return undefined;
    return this.created.get(id) ?? this.committed(id);
  }

  /** Working counters of `core`, copied from the committed ones once. */
  counters(core: QueueCore): QueueCounters {
    let c = this.work.get(core);
    if (!c) {
      c = { ...core.counters };
      this.work.set(core, c);
    }
    return c;
  }

  /** The spec in force for `core` within this batch. */
  spec(core: QueueCore): QueueSpec {
    return this.specs.get(core) ?? core.spec;
  }

  /** Queues an item put of `sizeBytes` payload; its header is filled. */
  putItem(
    core: QueueCore,
    meta: ItemMeta,
    value: Uint8Array,
    sizeBytes: number,
  ): void {
    this.ops.push({ type: 'put', key: itemKey(core.id, meta.seq), value });
    let list = this.pending.get(core);
    if (!list) {
      list = [];
      this.pending.set(core, list);
    }
    list.push(meta);
    const a = this.appended.get(core) ?? { items: 0, bytes: 0 };
    a.items += 1;
    a.bytes += sizeBytes;
    this.appended.set(core, a);
  }

  /** Deletes items [fromSeq, toSeq) of `core`, now or after the commit. */
  removeItems(core: QueueCore, fromSeq: number, toSeq: number): void {
    if (toSeq - fromSeq > INLINE_DELETE_MAX) {
      this.clears.push({ id: core.id, fromSeq, toSeq });
      return;
    }
    for (let seq = fromSeq; seq < toSeq; seq++) {
      this.ops.push({ type: 'del', key: itemKey(core.id, seq) });
    }
  }

  /** Marks `core` deleted: its records go now, its items after commit. */
  deleteQueue(core: QueueCore, expired: boolean): void {
    this.deleted.set(core.id, { core, expired });
    this.ops.push({ type: 'del', key: specKey(core.id) });
    this.ops.push({ type: 'del', key: countersKey(core.id) });
  }

  /**
   * Metas of the items of `core` from `fromSeq` on, in order: the stored
   * ones (as of the last commit), then those appended by this batch.
   */
  async *metasFrom(core: QueueCore, fromSeq: number): AsyncIterable<ItemMeta> {
    const storedTail = core.counters.tailSeq;
    if (fromSeq <= storedTail) {
      const range = {
        gte: itemKey(core.id, fromSeq),
        lte: itemKey(core.id, storedTail),
      };
      for await (const [key, value] of this.kv.scan(range)) {
        const item = decodeItemValue(value);
        const seq = seqOfItemKey(key);
        yield { seq, cumBytes: item.cumBytes, enqueuedAtMs: item.enqueuedAtMs };
      }
    }
    for (const meta of this.pending.get(core) ?? []) {
      if (meta.seq >= fromSeq) yield meta;
    }
  }

  /** Meta of item `seq`, which must be stored or appended by this batch. */
  async metaAt(core: QueueCore, seq: number): Promise<ItemMeta> {
    if (seq > core.counters.tailSeq) {
      // Appended by this batch: pending seqs are contiguous.
      const list = this.pending.get(core) ?? [];
      const meta = list[seq - (list[0]?.seq ?? 0)];
      invariant(meta?.seq === seq, 'queue item missing', {
        queue: core.id,
        seq,
      });
      return meta;
    }
    const value = await this.kv.get(itemKey(core.id, seq));
    invariant(value, 'queue item missing', { queue: core.id, seq });
    const item = decodeItemValue(value);
    return { seq, cumBytes: item.cumBytes, enqueuedAtMs: item.enqueuedAtMs };
  }

  /** Every operation of the batch, counters and specs included. */
  finish(): KvOp[] {
    for (const [core, spec] of this.specs) {
      if (this.deleted.has(core.id)) continue;
      this.ops.push({
        type: 'put',
        key: specKey(core.id),
        value: encodeSpec(spec),
      });
    }
    for (const [core, counters] of this.work) {
      if (this.deleted.has(core.id)) continue;
      core.touchDirty = false;
      this.ops.push({
        type: 'put',
        key: countersKey(core.id),
        value: encodeCounters(counters, core.lastTouchMs),
      });
    }
    return this.ops;
  }
}
