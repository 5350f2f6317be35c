import type { Clock } from '../common/clock.ts';
import type { QueueId } from '../common/ids.ts';
import { QueueClosedError, QueueDeletedError } from './errors.ts';
import type { KvStore } from './kv-store.ts';
import type { QueueCounters } from './records.ts';
import type { QueueSpec } from './types.ts';

/** What a queue needs from the manager that holds it. */
export interface QueueHost {
  readonly kv: KvStore;
  readonly clock: Clock;
  /** Throws QueueClosedError once the manager is closed. */
  assertOpen(): void;
  appendMany(
    entries: { queue: QueueId; bytes: Uint8Array }[],
  ): Promise<{ queue: QueueId; seq: number }[]>;
  ack(core: QueueCore, uptoSeq: number): Promise<void>;
}

interface Waiter {
  afterSeq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The signal's reason as an Error (AbortSignal.reason may be anything). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('waiting for items aborted', 'AbortError');
}

/**
 * The mutable state of one queue: committed counters (they change only
 * when a batch holding the change is durable) and the consumers waiting
 * for items. Public reads go through DurableQueue.
 */
export class QueueCore {
  /** Consumers blocked in waitForItems; one per attached consumer. */
  private readonly waiters = new Set<Waiter>();
  /** True when lastTouchMs changed since counters were last written. */
  touchDirty = false;
  /** Set once the queue's deletion is durable. */
  deleted = false;

  constructor(
    readonly host: QueueHost,
    readonly id: QueueId,
    public spec: QueueSpec,
    public counters: QueueCounters,
    public lastTouchMs: number,
  ) {}

  get length(): number {
    return this.counters.tailSeq - this.counters.headSeq + 1;
  }

  get bytes(): number {
    return this.counters.tailCumBytes - this.counters.headCumBytes;
  }

  get hasWaiters(): boolean {
    return this.waiters.size > 0;
  }

  touch(): void {
    this.lastTouchMs = this.host.clock.now();
    this.touchDirty = true;
  }

  /** Installs counters from a durable batch and wakes waiting consumers. */
  commit(counters: QueueCounters): void {
    this.counters = counters;
    for (const w of this.waiters) {
      if (counters.tailSeq > w.afterSeq) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Marks the queue gone and fails every waiting consumer. */
  markDeleted(): void {
    this.deleted = true;
    this.failWaiters(
      new QueueDeletedError('queue deleted', { queue: this.id }),
    );
  }

  /** Fails every waiting consumer (manager closing). */
  close(): void {
    this.failWaiters(new QueueClosedError('queue manager closed', {}));
  }

  waitForItems(
    afterSeq: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (this.deleted) {
      return Promise.reject(
        new QueueDeletedError('queue deleted', { queue: this.id }),
      );
    }
    if (this.counters.tailSeq > afterSeq) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = {
        afterSeq,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private failWaiters(err: Error): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }
}
