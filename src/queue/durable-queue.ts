import type { QueueId } from '../common/ids.ts';
import { itemKey, seqOfItemKey } from './keys.ts';
import type { QueueCore } from './queue-core.ts';
import { decodeItemValue } from './records.ts';
import type { QueueItem, QueueSpec } from './types.ts';

/**
 * One durable FIFO queue. Items get strictly increasing sequence numbers
 * that are never reused, not even after a restart. Consumers peek, send,
 * and only then ack: nothing leaves the queue before its ack, except the
 * oldest items dropped (and counted) by the queue's limits.
 *
 * Get instances from QueueManager.ensureQueue / get / list. Reading
 * properties costs nothing; the state they show is what is durable.
 */
export class DurableQueue {
  readonly #core: QueueCore;

  /** @internal Created by the queue manager. */
  constructor(core: QueueCore) {
    this.#core = core;
  }

  /** The queue's id. */
  get id(): QueueId {
    return this.#core.id;
  }

  /** Kind, limits, expiry and the router's record, as last ensured. */
  get spec(): QueueSpec {
    return this.#core.spec;
  }

  /** Items stored (appended, not yet acked or dropped). */
  get length(): number {
    return this.#core.length;
  }

  /** Payload bytes stored. */
  get bytes(): number {
    return this.#core.bytes;
  }

  /** Append time (ms since epoch) of the head item; undefined if empty. */
  get oldestEnqueuedAtMs(): number | undefined {
    return this.#core.length > 0
      ? this.#core.counters.headEnqueuedAtMs
      : undefined;
  }

  /** Items dropped by limits since creation; persisted across restarts. */
  get drops(): number {
    return this.#core.counters.drops;
  }

  /** Lowest seq still stored; 0 when the queue is empty. */
  get headSeq(): number {
    return this.#core.length > 0 ? this.#core.counters.headSeq : 0;
  }

  /** Highest seq ever assigned (0 before the first append); persisted. */
  get tailSeq(): number {
    return this.#core.counters.tailSeq;
  }

  /**
   * Appends one item; resolves with its seq once durable. Shares a synced
   * write with concurrent appends (see QueueManager.appendMany).
   * @throws QueueItemTooLargeError when bytes exceed limits.maxBytes.
   * @throws QueueNotFoundError once the queue is deleted.
   */
  async append(bytes: Uint8Array): Promise<number> {
    const [result] = await this.#core.host.appendMany([
      { queue: this.id, bytes },
    ]);
    return (result as { seq: number }).seq;
  }

  /**
   * Up to `maxItems` items with seq > afterSeq, in order, whose sizes sum
   * to at most `maxBytes`; the first item is returned even when larger,
   * so a big item never stalls a consumer. Removes nothing. Counts as a
   * touch (a consumer is attached).
   * @throws QueueClosedError after the manager closed.
   */
  async peek(
    afterSeq: number,
    o: { maxItems: number; maxBytes: number },
  ): Promise<QueueItem[]> {
    const core = this.#core;
    core.host.assertOpen();
    core.touch();
    const after = Number.isNaN(afterSeq) ? -1 : Math.floor(afterSeq);
    const from = Math.max(after + 1, core.counters.headSeq);
    const to = core.counters.tailSeq;
    const items: QueueItem[] = [];
    if (from > to || o.maxItems < 1) return items;
    const range = {
      gte: itemKey(this.id, from),
      lte: itemKey(this.id, to),
      limit: o.maxItems,
    };
    let total = 0;
    for await (const [key, value] of core.host.kv.scan(range)) {
      const { bytes, enqueuedAtMs } = decodeItemValue(value);
      if (items.length > 0 && total + bytes.length > o.maxBytes) break;
      items.push({ seq: seqOfItemKey(key), bytes, enqueuedAtMs });
      total += bytes.length;
    }
    return items;
  }

  /**
   * Durably removes every item with seq <= uptoSeq (one synced write,
   * shared with concurrent changes). Seqs already acked or dropped are
   * ignored.
   * @throws QueueAckOutOfRangeError when uptoSeq > tailSeq or is not a
   * safe integer; nothing is removed.
   * @throws QueueNotFoundError once the queue is deleted.
   */
  async ack(uptoSeq: number): Promise<void> {
    await this.#core.host.ack(this.#core, uptoSeq);
  }

  /**
   * Resolves as soon as tailSeq > afterSeq (at once if it already is).
   * While a consumer waits here the queue counts as touched.
   * @throws the signal's reason when aborted.
   * @throws QueueDeletedError when the queue is deleted or expires.
   * @throws QueueClosedError when the manager closes.
   */
  async waitForItems(
    afterSeq: number,
    o: { signal?: AbortSignal } = {},
  ): Promise<void> {
    this.#core.host.assertOpen();
    await this.#core.waitForItems(afterSeq, o.signal);
  }

  /**
   * Notes that a consumer is attached: restarts the idle-expiry clock.
   * Call on attach and at least once per idleExpiryMs while attached
   * (peek and waitForItems count too).
   */
  touch(): void {
    this.#core.touch();
  }
}
