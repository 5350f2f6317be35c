/**
 * Timed events for the relay: a min-heap of callbacks keyed by due time
 * with a single armed timer. Real timers drive it in service; tests use
 * {@link ManualScheduler} and move time by hand.
 */
import type { Clock } from '../src/common/index.ts';

/** Runs callbacks at given times on the scheduler's own clock. */
export interface Scheduler {
  /** Current time in ms (may be fractional). */
  now(): number;
  /**
   * Runs `fn` once when the clock reaches `atMs` (a past time runs on the
   * next turn). Callbacks due at the same time run in the order given.
   * Returns a function that cancels the callback.
   */
  at(atMs: number, fn: () => void): () => void;
  /** Forgets every pending callback and disarms the timer. */
  clear(): void;
  /** Callbacks pending. */
  readonly pending: number;
}

/**
 * A clock with sub-millisecond resolution (ms since the epoch), so
 * per-packet transmission times at megabit rates are not rounded away.
 */
export const preciseClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
};

interface Entry {
  atMs: number;
  seq: number;
  fn: (() => void) | undefined;
}

/** Binary min-heap ordered by (atMs, seq). */
class EventHeap {
  private readonly items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Entry | undefined {
    return this.items[0];
  }

  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) return top;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }

  clear(): void {
    this.items.length = 0;
  }
}

function before(x: Entry, y: Entry): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
}

/** Shared bookkeeping of both schedulers. */
abstract class HeapScheduler implements Scheduler {
  protected readonly heap = new EventHeap();
  private seq = 0;
  private live = 0;

  abstract now(): number;
  protected abstract rearm(): void;

  get pending(): number {
    return this.live;
  }

  at(atMs: number, fn: () => void): () => void {
    const entry: Entry = { atMs, seq: this.seq++, fn };
    this.live++;
    this.heap.push(entry);
    if (this.heap.peek() === entry) this.rearm();
    return () => {
      if (entry.fn === undefined) return;
      entry.fn = undefined;
      this.live--;
    };
  }

  clear(): void {
    this.heap.clear();
    this.live = 0;
    this.rearm();
  }

  /** Runs every callback due at or before `nowMs`, in time order. */
  protected runDue(nowMs: number): void {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.atMs > nowMs) return;
      this.heap.pop();
      const fn = top.fn;
      if (fn === undefined) continue;
      top.fn = undefined;
      this.live--;
      fn();
    }
  }
}

/**
 * Scheduler on real timers: one unref'd `setTimeout` for the earliest
 * callback. Node timers have 1 ms granularity, so callbacks run up to
 * about 1-2 ms late, never early.
 */
export class TimerScheduler extends HeapScheduler {
  private timer: NodeJS.Timeout | undefined;
  private armedForMs = Infinity;

  /** @param clock time source; default {@link preciseClock}. */
  constructor(private readonly clock: Clock = preciseClock) {
    super();
  }

  now(): number {
    return this.clock.now();
  }

  protected rearm(): void {
    const dueMs = this.heap.peek()?.atMs ?? Infinity;
    if (this.timer !== undefined && dueMs >= this.armedForMs) {
      if (dueMs !== Infinity) return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedForMs = dueMs;
    if (dueMs === Infinity) return;
    const waitMs = Math.max(0, Math.ceil(dueMs - this.now()));
    this.timer = setTimeout(() => this.fire(), waitMs);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedForMs = Infinity;
    this.runDue(this.now());
    this.rearm();
  }
}

/**
 * Scheduler whose time moves only through {@link advanceBy} or
 * {@link advanceTo}; callbacks run synchronously inside those calls, each
 * with the clock set to its own due time.
 */
export class ManualScheduler extends HeapScheduler {
  private nowMs: number;

  /** @param startMs the initial time; default 0. */
  constructor(startMs = 0) {
    super();
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  /** Moves time forward by `ms`, running what falls due on the way. */
  advanceBy(ms: number): void {
    this.advanceTo(this.nowMs + ms);
  }

  /** Moves time to `targetMs` (never backwards), running due callbacks. */
  advanceTo(targetMs: number): void {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.atMs > targetMs) break;
      this.nowMs = Math.max(this.nowMs, top.atMs);
      this.runDue(this.nowMs);
    }
    this.nowMs = Math.max(this.nowMs, targetMs);
  }

  protected rearm(): void {
    // Nothing to arm: time moves only when the test says so.
  }
}
