/**
 * A counting semaphore with a bounded FIFO of waiters. It keeps the number
 * of locally opened streams below the peer's stream limit: opening past
 * that limit poisons a @matrixai/quic connection for good.
 */

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

/** Options of {@link Semaphore}. */
export interface SemaphoreOptions {
  /** Slots available at once; at least 1. */
  permits: number;
  /** Most callers that may wait; more are refused (reject-newest). */
  maxWaiters: number;
  /** Builds the error given to callers refused for a full queue. */
  queueFullError: () => Error;
}

/** See the module comment. */
export class Semaphore {
  private available: number;
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;

  constructor(private readonly options: SemaphoreOptions) {
    if (!Number.isInteger(options.permits) || options.permits < 1) {
      throw new RangeError(`permits must be >= 1, got ${options.permits}`);
    }
    this.available = options.permits;
  }

  /** Slots free right now. */
  get free(): number {
    return this.available;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Takes a slot, waiting in FIFO order while none is free.
   * @throws the error given to {@link fail}; the signal's reason when
   *   aborted; the queue-full error when too many callers wait.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.available > 0 && this.waiters.length === 0) {
      this.available--;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.options.maxWaiters) {
      return Promise.reject(this.options.queueFullError());
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.remove(waiter);
        reject(abortReason(signal));
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Returns a slot, handing it to the first waiter if there is one. */
  release(): void {
    const next = this.waiters.shift();
    if (next) {
      next.cleanup();
      next.resolve();
      return;
    }
    this.available = Math.min(this.available + 1, this.options.permits);
  }

  /** Rejects every waiter and every later acquire with `err`. */
  fail(err: Error): void {
    this.failure = err;
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(err);
    }
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    waiter.cleanup();
  }
}

/** The signal's reason as an Error (it is one unless a caller chose). */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}
