/**
 * The link's state over time from a profile's schedule: a pure function
 * of the time since the relay (or tc driver) started, so both backends
 * and the tests agree on when the link is down.
 */
import type { Direction, ScheduleEntry } from './profile-types.ts';

/**
 * State of one direction of the link. `outage` and `flapping` are the
 * link being down; `blackhole` drops silently; `manual-down` is a
 * caller's `setDown(true)`.
 */
export type LinkState =
  'up' | 'outage' | 'flapping' | 'blackhole' | 'manual-down';

/** Scheduled state of `direction` at `elapsedMs` after the start. */
export function scheduledState(
  schedule: readonly ScheduleEntry[],
  direction: Direction,
  elapsedMs: number,
): Exclude<LinkState, 'manual-down'> {
  let blackhole = false;
  let flapping = false;
  for (const s of schedule) {
    if (s.kind === 'rebind') continue;
    if (s.direction !== 'both' && s.direction !== direction) continue;
    if (!activeAt(s, elapsedMs)) continue;
    // An outage outranks the others: the link is plainly down.
    if (s.kind === 'outage') return 'outage';
    if (s.kind === 'flapping') flapping = true;
    else blackhole = true;
  }
  if (flapping) return 'flapping';
  return blackhole ? 'blackhole' : 'up';
}

function activeAt(
  s: Exclude<ScheduleEntry, { kind: 'rebind' }>,
  t: number,
): boolean {
  if (t < s.startMs) return false;
  if (s.kind === 'flapping') return (t - s.startMs) % s.periodMs < s.downMs;
  return t < s.startMs + s.durationMs;
}

/**
 * The first time after `elapsedMs` at which a scheduled state may change
 * in any direction, or undefined when none ever will.
 */
export function nextStateChangeMs(
  schedule: readonly ScheduleEntry[],
  elapsedMs: number,
): number | undefined {
  let next = Infinity;
  for (const s of schedule) {
    for (const edge of edgesAfter(s, elapsedMs)) next = Math.min(next, edge);
  }
  return next === Infinity ? undefined : next;
}

function edgesAfter(s: ScheduleEntry, t: number): number[] {
  switch (s.kind) {
    case 'rebind':
      return [];
    case 'outage':
    case 'blackhole':
      return [s.startMs, s.startMs + s.durationMs].filter((e) => e > t);
    case 'flapping': {
      if (t < s.startMs) return [s.startMs];
      const k = Math.floor((t - s.startMs) / s.periodMs);
      const base = s.startMs + k * s.periodMs;
      return [base + s.downMs, base + s.periodMs].filter((e) => e > t);
    }
  }
}

/**
 * The first scheduled rebind strictly after `elapsedMs`, or undefined
 * when the schedule has none.
 */
export function nextRebindMs(
  schedule: readonly ScheduleEntry[],
  elapsedMs: number,
): number | undefined {
  let next = Infinity;
  for (const s of schedule) {
    if (s.kind !== 'rebind') continue;
    const k = Math.floor((elapsedMs - s.startMs) / s.everyMs) + 1;
    const at = s.startMs > elapsedMs ? s.startMs : s.startMs + k * s.everyMs;
    next = Math.min(next, at);
  }
  return next === Infinity ? undefined : next;
}
