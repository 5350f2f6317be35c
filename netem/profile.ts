/**
 * Impairment profiles: loading them from `netem/profiles/*.json` (or any
 * JSON file), checking every field, and applying the caller's overrides.
 * File format and field meanings: netem/README.md.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../src/common/index.ts';
import { ProfileNotFoundError } from './errors.ts';
import { FieldReader, fieldError } from './profile-fields.ts';
import type {
  Direction,
  DirectionImpairment,
  DirectionPatch,
  LossBurst,
  Profile,
  ProfileOverrides,
  ScheduleDirection,
  ScheduleEntry,
} from './profile-types.ts';
import { applyScheduleOverrides, readSchedule } from './profile-schedule.ts';

export type * from './profile-types.ts';

/** Folder of the profiles shipped with wavemq. */
export const PROFILE_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  'profiles',
);

/** Longest delay or jitter accepted, ms (a minute: beyond any real link). */
export const MAX_DELAY_MS = 60_000;
/** Deepest chain of `extends`. */
const MAX_EXTENDS_DEPTH = 4;
/** The rate queue's default holds at least one largest UDP datagram. */
const MIN_DEFAULT_QUEUE_BYTES = 65_536;
/** ... or what the rate drains in this long, whichever is more. */
const DEFAULT_QUEUE_DRAIN_MS = 200;

const SCHEDULE_DIRECTIONS: readonly ScheduleDirection[] = [
  'up',
  'down',
  'both',
];

/** One profile file, checked but not yet combined with its base. */
interface ProfilePatch {
  extends: string | undefined;
  description: string | undefined;
  both: DirectionPatch;
  up: DirectionPatch;
  down: DirectionPatch;
  schedule: ScheduleEntry[];
}

/** Names of the shipped profiles, sorted. */
export async function profileNames(): Promise<string[]> {
  const files = await readdir(PROFILE_DIR);
  return files
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * Loads a shipped profile by name (`cellular`) or any profile file by
 * path (anything containing `/` or ending in `.json`), follows its
 * `extends` chain and applies `overrides`. A path in `extends` counts
 * from the folder of the file that names it.
 * @throws ProfileNotFoundError when there is no such profile or file.
 * @throws ProfileError naming the field when a file or override is bad.
 */
export async function loadProfile(
  nameOrPath: string,
  overrides: ProfileOverrides = {},
): Promise<Profile> {
  const chain: ProfilePatch[] = [];
  let next: string | undefined = nameOrPath;
  while (next !== undefined) {
    if (chain.length === MAX_EXTENDS_DEPTH) {
      throw fieldError(nameOrPath, 'extends', 'chain is too deep');
    }
    const patch = readPatch(next, await readProfileJson(next));
    chain.unshift(patch);
    next =
      patch.extends !== undefined && isPath(patch.extends) && isPath(next)
        ? resolve(dirname(next), patch.extends)
        : patch.extends;
  }
  return resolveProfile(profileLabel(nameOrPath), chain, overrides);
}

/**
 * Builds a profile from parsed JSON (no `extends`: that needs files).
 * @throws ProfileError naming the field.
 */
export function parseProfile(
  name: string,
  json: unknown,
  overrides: ProfileOverrides = {},
): Profile {
  const patch = readPatch(name, json);
  if (patch.extends !== undefined) {
    throw fieldError(name, 'extends', 'needs loadProfile (files)');
  }
  return resolveProfile(name, [patch], overrides);
}

/**
 * Checks caller overrides (from a command line or a test).
 * @throws ProfileError naming `overrides.<field>`.
 */
export function readOverrides(name: string, json: unknown): ProfileOverrides {
  const r = FieldReader.of(name, 'overrides', json);
  const o: ProfileOverrides = {};
  for (const key of OVERRIDE_TIME_KEYS) {
    const v = r.number(key, 0, Number.MAX_SAFE_INTEGER);
    if (v !== undefined) o[key] = v;
  }
  for (const key of ['both', 'up', 'down'] as const) {
    const c = r.child(key);
    if (c) o[key] = readDirectionPatch(c);
  }
  r.rejectUnknown();
  return o;
}

const OVERRIDE_TIME_KEYS = [
  'outageStartMs',
  'outageMs',
  'blackholeStartMs',
  'blackholeMs',
  'flapStartMs',
  'flapPeriodMs',
  'flapDownMs',
  'rebindStartMs',
  'rebindEveryMs',
] as const;

function profileLabel(nameOrPath: string): string {
  return isPath(nameOrPath) ? nameOrPath : basename(nameOrPath);
}

function isPath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || nameOrPath.endsWith('.json');
}

async function readProfileJson(nameOrPath: string): Promise<unknown> {
  const file = isPath(nameOrPath)
    ? nameOrPath
    : join(PROFILE_DIR, `${nameOrPath}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const known = await profileNames();
    throw new ProfileNotFoundError(
      `no profile "${nameOrPath}" (${errorMessage(err)}); ` +
        `shipped: ${known.join(', ')}`,
      { profile: nameOrPath, known },
      { cause: err },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fieldError(nameOrPath, '(file)', `is not JSON: ${errorMessage(err)}`);
  }
}

function readPatch(name: string, json: unknown): ProfilePatch {
  const r = FieldReader.of(name, '', json);
  const dir = (key: string) => {
    const c = r.child(key);
    return c ? readDirectionPatch(c) : {};
  };
  const patch: ProfilePatch = {
    extends: r.string('extends'),
    description: r.string('description'),
    both: dir('both'),
    up: dir('up'),
    down: dir('down'),
    schedule: readSchedule(r, SCHEDULE_DIRECTIONS),
  };
  r.rejectUnknown();
  return patch;
}

/** Reads the fields of one direction (in `both`, `up` or `down`). */
function readDirectionPatch(r: FieldReader): DirectionPatch {
  const p: DirectionPatch = {};
  const put = <K extends keyof DirectionPatch>(
    k: K,
    v: DirectionPatch[K] | undefined,
  ) => {
    if (v !== undefined) p[k] = v;
  };
  put('delayMs', r.number('delayMs', 0, MAX_DELAY_MS));
  put('jitterMs', r.number('jitterMs', 0, MAX_DELAY_MS));
  put(
    'jitterDistribution',
    r.choice('jitterDistribution', ['uniform', 'normal'] as const),
  );
  put('lossPercent', r.number('lossPercent', 0, 100));
  put('duplicatePercent', r.number('duplicatePercent', 0, 100));
  put('reorderPercent', r.number('reorderPercent', 0, 100));
  put('rateBitsPerSecond', r.integer('rateBitsPerSecond', 0, 1e12));
  put('rateQueueBytes', r.integer('rateQueueBytes', 1_500, 1 << 30));
  put('limitPackets', r.integer('limitPackets', 1, 1_000_000));
  const burst = r.child('lossBurst');
  if (burst) put('lossBurst', readLossBurst(burst));
  r.rejectUnknown();
  return p;
}

function readLossBurst(r: FieldReader): Partial<LossBurst> {
  const b: Partial<LossBurst> = {};
  for (const key of [
    'goodToBadPercent',
    'badToGoodPercent',
    'badLossPercent',
    'goodLossPercent',
  ] as const) {
    const v = r.number(key, 0, 100);
    if (v !== undefined) b[key] = v;
  }
  r.rejectUnknown();
  return b;
}

const BASE_DIRECTION: Omit<DirectionImpairment, 'rateQueueBytes'> = {
  delayMs: 0,
  jitterMs: 0,
  jitterDistribution: 'uniform',
  lossPercent: 0,
  lossBurst: undefined,
  duplicatePercent: 0,
  reorderPercent: 0,
  rateBitsPerSecond: 0,
  limitPackets: 1_000,
};

function resolveProfile(
  name: string,
  chain: ProfilePatch[],
  overrides: ProfileOverrides,
): Profile {
  const patchesFor = (d: Direction): DirectionPatch[] => [
    ...chain.flatMap((p) => [p.both, p[d]]),
    overrides.both ?? {},
    overrides[d] ?? {},
  ];
  const profile: Profile = {
    name,
    description: chain.findLast((p) => p.description)?.description ?? '',
    up: resolveDirection(name, 'up', patchesFor('up')),
    down: resolveDirection(name, 'down', patchesFor('down')),
    schedule: chain.flatMap((p) => p.schedule),
  };
  applyScheduleOverrides(name, profile.schedule, overrides);
  return profile;
}

function resolveDirection(
  name: string,
  d: Direction,
  patches: DirectionPatch[],
): DirectionImpairment {
  let burst: Partial<LossBurst> | undefined;
  let queueBytes: number | undefined;
  const merged = { ...BASE_DIRECTION };
  for (const { lossBurst, rateQueueBytes, ...rest } of patches) {
    Object.assign(merged, rest);
    if (lossBurst) burst = { ...burst, ...lossBurst };
    if (rateQueueBytes !== undefined) queueBytes = rateQueueBytes;
  }
  const out: DirectionImpairment = {
    ...merged,
    lossBurst: burst && completeBurst(name, d, burst),
    rateQueueBytes: queueBytes ?? defaultQueueBytes(merged.rateBitsPerSecond),
  };
  checkDirection(name, d, out);
  return out;
}

function completeBurst(
  name: string,
  d: Direction,
  b: Partial<LossBurst>,
): LossBurst {
  for (const key of ['goodToBadPercent', 'badToGoodPercent'] as const) {
    if (b[key] === undefined) {
      throw fieldError(name, `${d}.lossBurst.${key}`, 'is required');
    }
  }
  return {
    goodToBadPercent: b.goodToBadPercent ?? 0,
    badToGoodPercent: b.badToGoodPercent ?? 0,
    badLossPercent: b.badLossPercent ?? 100,
    goodLossPercent: b.goodLossPercent ?? 0,
  };
}

function defaultQueueBytes(rateBitsPerSecond: number): number {
  const drained = (rateBitsPerSecond / 8) * (DEFAULT_QUEUE_DRAIN_MS / 1000);
  return Math.max(MIN_DEFAULT_QUEUE_BYTES, Math.ceil(drained));
}

/** Rules that span fields, checked on the merged direction. */
function checkDirection(
  name: string,
  d: Direction,
  x: DirectionImpairment,
): void {
  if (x.lossBurst && x.lossPercent > 0) {
    throw fieldError(name, `${d}.lossBurst`, 'cannot be used with lossPercent');
  }
  if (x.reorderPercent > 0 && x.delayMs === 0) {
    throw fieldError(
      name,
      `${d}.reorderPercent`,
      'needs delayMs above 0 (only delayed packets can be overtaken)',
    );
  }
}

/** `profile` with every scheduled event `byMs` later. */
export function shiftSchedule(profile: Profile, byMs: number): Profile {
  return {
    ...profile,
    schedule: profile.schedule.map((s) => ({
      ...s,
      startMs: s.startMs + byMs,
    })),
  };
}
