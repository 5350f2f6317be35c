import { errorMessage } from '../common/errors.ts';
import type { QueueId } from '../common/ids.ts';
import type { Logger } from '../common/logger.ts';
import { itemKey, itemRangeEnd } from './keys.ts';
import type { KvStore } from './kv-store.ts';

/**
 * Reclaims the space of items that a durable batch already removed
 * logically (head advanced, or queue records deleted). Clears run after
 * the commit and are not atomic with it; after a crash, recovery clears
 * whatever is left. Bounded by the number of commits in flight.
 */
export class ItemClearer {
  private readonly running = new Set<Promise<void>>();
  /** Deleted queues whose items are still being cleared, by id. */
  private readonly deleting = new Map<QueueId, Promise<void>>();

  constructor(
    private readonly kv: KvStore,
    private readonly logger: Logger,
  ) {}

  /** Clears items [fromSeq, toSeq) of queue `id`. */
  clearRange(id: QueueId, fromSeq: number, toSeq: number): void {
    void this.start(id, itemKey(id, fromSeq), itemKey(id, toSeq));
  }

  /**
   * Clears every item of deleted queue `id`. Until done, {@link deletion}
   * returns the pending clear: a queue recreated under the same id must
   * wait for it, or the clear would take the new queue's items.
   */
  clearQueue(id: QueueId): void {
    const done = this.start(id, itemKey(id, 0), itemRangeEnd(id)).then(() => {
      if (this.deleting.get(id) === done) this.deleting.delete(id);
    });
    this.deleting.set(id, done);
  }

  /** The running clear of deleted queue `id`, if any. */
  deletion(id: QueueId): Promise<void> | undefined {
    return this.deleting.get(id);
  }

  /** Resolves when every clear started so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private start(id: QueueId, gte: Uint8Array, lt: Uint8Array): Promise<void> {
    const p = this.kv
      .clear({ gte, lt })
      .catch((err: unknown) => {
        // Recovery clears what is left after a failure; log and go on.
        this.logger.error(
          { queue: id, err: errorMessage(err) },
          'queue item clear failed',
        );
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
    return p;
  }
}
