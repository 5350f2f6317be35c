import { WavemqError } from '../common/errors.ts';
import { QueueWriteError } from './errors.ts';
import type { KvOp, KvStore } from './kv-store.ts';

/** One change to fold into a group-commit batch. */
export interface CommitJob<X, T> {
  /**
   * Checks the change against the batch; throwing rejects this job alone.
   * Must not modify the batch.
   */
  validate?(tx: X): void;
  /** Adds the change to the batch. Throwing fails the whole batch. */
  apply(tx: X): Promise<T> | T;
}

/** How the committer builds and installs batches of type X. */
export interface CommitHooks<X> {
  begin(): X;
  /** Every operation to write for the batch. */
  finish(tx: X): KvOp[];
  /** The batch is durable: install its effects. Must not throw. */
  committed(tx: X, o: { jobs: number; elapsedMs: number }): void;
  /** The batch failed; nothing of it is stored. */
  failed(tx: X, err: unknown): void;
}

interface Entry<X> {
  job: CommitJob<X, unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: changes submitted within `windowMs` of an idle spell's
 * first change, or while a write is in flight, go to the store in one
 * synced batch, in submission order. Each submit resolves once its batch is durable.
 * Only one batch is built or written at a time, so batches see each
 * other's effects in order.
 *
 * The pending list is bounded by the callers: each awaits its change
 * (the manager also holds appenders back past a byte bound).
 */
export class GroupCommitter<X> {
  private pending: Entry<X>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly kv: KvStore,
    private readonly windowMs: number,
    private readonly hooks: CommitHooks<X>,
  ) {}

  /** Adds `job` to the next batch; resolves with its result when durable. */
  submit<T>(job: CommitJob<X, T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        job,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.schedule();
    });
  }

  /** Writes everything submitted so far without waiting for the window. */
  async flush(): Promise<void> {
    while (this.running || this.pending.length > 0) {
      this.startNow();
      await this.running;
    }
  }

  /** Resolves when the batch in flight (if any) has finished. */
  async settled(): Promise<void> {
    await this.running;
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    // Not unref'd: a submitted change must reach the store even when
    // nothing else keeps the process alive.
    this.timer = setTimeout(() => this.startNow(), this.windowMs);
  }

  private startNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    // Changes submitted while a batch was written have waited already:
    // they form the next batch at once. So do changes submitted by the
    // callers just resolved (one event-loop turn for them to come back):
    // under steady load batches run back to back, and the window only
    // delays the first change after an idle spell.
    try {
      do {
        await this.runBatch(this.pending.splice(0));
        await new Promise<void>((resolve) => setImmediate(resolve));
      } while (this.pending.length > 0);
    } finally {
      this.running = undefined;
    }
  }

  private async runBatch(group: Entry<X>[]): Promise<void> {
    const startedMs = performance.now();
    const tx = this.hooks.begin();
    const accepted: { entry: Entry<X>; value: unknown }[] = [];
    let ops: KvOp[] = [];
    try {
      for (const entry of group) {
        try {
          entry.job.validate?.(tx);
        } catch (err) {
          entry.reject(err);
          continue;
        }
        accepted.push({ entry, value: await entry.job.apply(tx) });
      }
      ops = this.hooks.finish(tx);
      if (ops.length > 0) await this.kv.write(ops, { sync: true });
    } catch (err) {
      this.fail(tx, group, err, ops.length);
      return;
    }
    const elapsedMs = performance.now() - startedMs;
    try {
      this.hooks.committed(tx, { jobs: accepted.length, elapsedMs });
    } catch (err) {
      // Durable but not installed: memory no longer matches the store.
      // A broken invariant ends the process; on restart, recovery
      // rebuilds memory from the store, which is consistent.
      for (const entry of group) entry.reject(err);
      process.nextTick(() => {
        throw err;
      });
      return;
    }
    for (const { entry, value } of accepted) entry.resolve(value);
  }

  private fail(tx: X, group: Entry<X>[], err: unknown, ops: number): void {
    const failure =
      err instanceof WavemqError
        ? err
        : new QueueWriteError(
            'queue store write failed',
            { operations: ops },
            { cause: err },
          );
    this.hooks.failed(tx, failure);
    // Jobs rejected by their own validation already settled; rejecting
    // them again has no effect.
    for (const entry of group) entry.reject(failure);
  }
}
