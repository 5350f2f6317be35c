/**
 * Jittered exponential backoff that never gives up: each delay is drawn
 * uniformly from [base/2, base] where base doubles per failure up to a cap
 * ("equal jitter"), so many sites that lost their uplink at once do not
 * reconnect in lockstep.
 */
export interface BackoffOptions {
  /** First delay, ms; default 500. */
  initialMs?: number;
  /** Largest delay, ms; default 30_000. */
  maxMs?: number;
  /** Source of randomness in [0, 1); default Math.random. */
  random?: () => number;
}

/** Produces successive retry delays; `reset()` after a success. */
export class Backoff {
  private failures = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.initialMs = o.initialMs ?? 500;
    this.maxMs = o.maxMs ?? 30_000;
    this.random = o.random ?? Math.random;
  }

  /** Number of failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next attempt, ms. */
  next(): number {
    const exp = Math.min(this.failures, 30);
    this.failures += 1;
    const base = Math.min(this.maxMs, this.initialMs * 2 ** exp);
    return base / 2 + (this.random() * base) / 2;
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
