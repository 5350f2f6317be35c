/**
 * When a trial's backlog counts as drained, and from when that is
 * measured: the end of the profile's last down window (outage, blackhole
 * or flap) that began while publishing, or else the end of publishing.
 */
import type { ScheduleEntry } from './profile-types.ts';

/** A span during which the link was scheduled down or blackholed. */
export interface DownWindow {
  kind: 'outage' | 'blackhole' | 'flapping';
  /** ms after the schedule's origin; the window is [startMs, endMs). */
  startMs: number;
  endMs: number;
}

/** Flap windows listed at most, so a tiny period cannot run away. */
const MAX_FLAP_WINDOWS = 100_000;

/**
 * The down windows of `schedule` that start before `untilMs`, in order
 * of their end. Every direction counts: a one-way window stalls the link
 * as surely as a two-way one.
 */
export function downWindows(
  schedule: readonly ScheduleEntry[],
  untilMs: number,
): DownWindow[] {
  const out: DownWindow[] = [];
  for (const s of schedule) {
    switch (s.kind) {
      case 'rebind':
        break;
      case 'outage':
      case 'blackhole':
        if (s.startMs < untilMs) {
          out.push({
            kind: s.kind,
            startMs: s.startMs,
            endMs: s.startMs + s.durationMs,
          });
        }
        break;
      case 'flapping':
        for (let k = 0; k < MAX_FLAP_WINDOWS; k++) {
          const startMs = s.startMs + k * s.periodMs;
          if (startMs >= untilMs) break;
          out.push({ kind: s.kind, startMs, endMs: startMs + s.downMs });
        }
        break;
    }
  }
  return out.sort((a, b) => a.endMs - b.endMs);
}

/** Where a drain is measured from. */
export interface DrainReference {
  /** The window it follows, or undefined for the end of publishing. */
  window: DownWindow | undefined;
  /** ms after the schedule's origin. */
  atMs: number;
}

/**
 * The end of the last window of `schedule` that began before publishing
 * ended (`publishEndMs`, same origin), or else the end of publishing.
 */
export function drainReference(
  schedule: readonly ScheduleEntry[],
  publishEndMs: number,
): DrainReference {
  const window = downWindows(schedule, publishEndMs).at(-1);
  return window
    ? { window, atMs: window.endMs }
    : { window: undefined, atMs: publishEndMs };
}

/** What {@link drainDoneAt} works from; times on one clock, ms. */
export interface DrainFacts {
  /** The reference point. */
  refMs: number;
  /** When the last publish was acknowledged. */
  publishEndMs: number;
  /**
   * When every message published before `refMs` had arrived; undefined
   * when some never did.
   */
  allArrivedMs: number | undefined;
  /** First reading at or after `refMs` of an empty site backlog. */
  firstEmptyMs: number | undefined;
}

/**
 * When the drain was complete: everything published before the
 * reference had arrived and, when publishing had ended by then, the
 * site's backlog had been seen empty. While publishing goes on the
 * backlog is never empty for long (messages in flight sit in it), so
 * then only arrivals count. Undefined when it never completed.
 */
export function drainDoneAt(f: DrainFacts): number | undefined {
  if (f.allArrivedMs === undefined) return undefined;
  if (f.publishEndMs > f.refMs) return f.allArrivedMs;
  if (f.firstEmptyMs === undefined) return undefined;
  return Math.max(f.allArrivedMs, f.firstEmptyMs);
}
