/**
 * The `schedule` list of a profile: reading its entries and applying the
 * caller's schedule overrides (`outageStartMs`, `rebindEveryMs`, ...).
 */
import { fieldError, FieldReader } from './profile-fields.ts';
import type {
  ProfileOverrides,
  ScheduleDirection,
  ScheduleEntry,
} from './profile-types.ts';

/** Longest schedule time accepted, ms (thirty days). */
const MAX_SCHEDULE_MS = 30 * 24 * 3_600_000;
/** Shortest rebind interval, ms: faster would only churn sockets. */
const MIN_REBIND_EVERY_MS = 100;

/** Reads `schedule` of a profile file; [] when absent. */
export function readSchedule(
  r: FieldReader,
  directions: readonly ScheduleDirection[],
): ScheduleEntry[] {
  const list = r.array('schedule') ?? [];
  return list.map((item, i) => {
    const e = FieldReader.of(r.profile, r.pathOf(`schedule[${i}]`), item);
    const entry = readEntry(e, directions);
    e.rejectUnknown();
    return entry;
  });
}

function readEntry(
  e: FieldReader,
  directions: readonly ScheduleDirection[],
): ScheduleEntry {
  const kind = e.choice('kind', [
    'outage',
    'blackhole',
    'flapping',
    'rebind',
  ] as const);
  const need = (key: string, min: number) => requiredField(e, key, min);
  const startMs = (fallback: number) =>
    e.number('startMs', 0, MAX_SCHEDULE_MS) ?? fallback;
  const direction = () => e.choice('direction', directions) ?? 'both';
  switch (kind) {
    case undefined:
      throw e.error('kind', 'is required');
    case 'outage':
    case 'blackhole':
      return {
        kind,
        startMs: startMs(0),
        durationMs: need('durationMs', 1),
        direction: direction(),
      };
    case 'flapping':
      return checkFlap(e, {
        kind,
        startMs: startMs(0),
        periodMs: need('periodMs', 2),
        downMs: need('downMs', 1),
        direction: direction(),
      });
    case 'rebind': {
      const everyMs = need('everyMs', MIN_REBIND_EVERY_MS);
      return { kind, startMs: startMs(everyMs), everyMs };
    }
  }
}

function requiredField(e: FieldReader, key: string, min: number): number {
  const v = e.number(key, min, MAX_SCHEDULE_MS);
  if (v === undefined) throw e.error(key, 'is required');
  return v;
}

function checkFlap<T extends { periodMs: number; downMs: number }>(
  e: FieldReader,
  entry: T,
): T {
  if (entry.downMs >= entry.periodMs) {
    throw e.error('downMs', 'must be below periodMs');
  }
  return entry;
}

/**
 * Applies the schedule fields of `o` to `schedule` in place: each changes
 * every entry of its kind, or adds one when there is none.
 * @throws ProfileError naming `overrides.<field>` when an entry cannot be
 *   added for lack of a length, or the result is inconsistent.
 */
export function applyScheduleOverrides(
  name: string,
  schedule: ScheduleEntry[],
  o: ProfileOverrides,
): void {
  const window = (
    kind: 'outage' | 'blackhole',
    start: number | undefined,
    duration: number | undefined,
    durationKey: string,
  ) => {
    if (start === undefined && duration === undefined) return;
    const found = schedule.filter(
      (s): s is Extract<ScheduleEntry, { kind: typeof kind }> =>
        s.kind === kind,
    );
    for (const s of found) {
      if (start !== undefined) s.startMs = start;
      if (duration !== undefined) s.durationMs = duration;
    }
    if (found.length > 0) return;
    const durationMs = required(name, durationKey, duration, kind);
    const startMs = start ?? 0;
    schedule.push({ kind, startMs, durationMs, direction: 'both' });
  };
  window('outage', o.outageStartMs, o.outageMs, 'outageMs');
  window('blackhole', o.blackholeStartMs, o.blackholeMs, 'blackholeMs');
  applyFlapOverrides(name, schedule, o);
  applyRebindOverrides(name, schedule, o);
}

function applyFlapOverrides(
  name: string,
  schedule: ScheduleEntry[],
  o: ProfileOverrides,
): void {
  const { flapStartMs, flapPeriodMs, flapDownMs } = o;
  if (
    flapStartMs === undefined &&
    flapPeriodMs === undefined &&
    flapDownMs === undefined
  ) {
    return;
  }
  const found = schedule.filter(
    (s): s is Extract<ScheduleEntry, { kind: 'flapping' }> =>
      s.kind === 'flapping',
  );
  for (const s of found) {
    if (flapStartMs !== undefined) s.startMs = flapStartMs;
    if (flapPeriodMs !== undefined) s.periodMs = flapPeriodMs;
    if (flapDownMs !== undefined) s.downMs = flapDownMs;
  }
  if (found.length === 0) {
    found.push({
      kind: 'flapping',
      startMs: flapStartMs ?? 0,
      periodMs: required(name, 'flapPeriodMs', flapPeriodMs, 'flapping'),
      downMs: required(name, 'flapDownMs', flapDownMs, 'flapping'),
      direction: 'both',
    });
    schedule.push(...found);
  }
  for (const s of found) {
    if (s.downMs >= s.periodMs || s.downMs <= 0) {
      throw fieldError(name, 'overrides.flapDownMs', 'must be below period');
    }
  }
}

function applyRebindOverrides(
  name: string,
  schedule: ScheduleEntry[],
  o: ProfileOverrides,
): void {
  const { rebindStartMs, rebindEveryMs } = o;
  if (rebindStartMs === undefined && rebindEveryMs === undefined) return;
  if (rebindEveryMs !== undefined && rebindEveryMs < MIN_REBIND_EVERY_MS) {
    throw fieldError(
      name,
      'overrides.rebindEveryMs',
      `must be at least ${MIN_REBIND_EVERY_MS}`,
    );
  }
  const found = schedule.filter(
    (s): s is Extract<ScheduleEntry, { kind: 'rebind' }> => s.kind === 'rebind',
  );
  for (const s of found) {
    if (rebindEveryMs !== undefined) s.everyMs = rebindEveryMs;
    s.startMs = rebindStartMs ?? rebindEveryMs ?? s.startMs;
  }
  if (found.length > 0) return;
  const everyMs = required(name, 'rebindEveryMs', rebindEveryMs, 'rebind');
  schedule.push({ kind: 'rebind', startMs: rebindStartMs ?? everyMs, everyMs });
}

function required(
  name: string,
  key: string,
  value: number | undefined,
  kind: string,
): number {
  if (value === undefined || value <= 0) {
    throw fieldError(
      name,
      `overrides.${key}`,
      `is needed (above 0) to add a ${kind} entry to this profile`,
    );
  }
  return value;
}
