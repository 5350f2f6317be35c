/**
 * The command line of the trial runner (`npm run netem -- PROFILE ...`):
 * options with their defaults, and `--set` pairs as profile overrides.
 */
import { parseArgs } from 'node:util';

/** One line of usage text. */
export const USAGE =
  'usage: npm run netem -- PROFILE [--seconds N] [--rate N] [--seed N] ' +
  '[--set KEY=VALUE]... [--json] [--no-baseline] [--loopback] [--keep]';

/** Messages one trial may publish (each is tracked in memory). */
export const MAX_MESSAGES = 10_000_000;

/** A command-line mistake; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The runner's options; `help` alone needs no profile. */
export interface RunArgs {
  profile: string;
  seconds: number;
  rate: number;
  seed: number | undefined;
  sets: string[];
  json: boolean;
  /** Skip the Mosquitto bridge baseline. */
  noBaseline: boolean;
  /** Stay on loopback even as root (no network namespaces). */
  loopback: boolean;
  keep: boolean;
  help: boolean;
}

/**
 * Reads the runner's arguments. Defaults: 60 s, 50 messages/s, a random
 * seed.
 * @throws UsageError for a missing profile or a bad number; TypeError
 *   (from node:util) for an unknown option.
 */
export function parseRunArgs(argv: string[]): RunArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seconds: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      set: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'no-baseline': { type: 'boolean' },
      loopback: { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1) {
    throw new UsageError(`one profile expected, got ${positionals.join(' ')}`);
  }
  const profile = positionals[0];
  if (profile === undefined && values.help !== true) {
    throw new UsageError('PROFILE is required');
  }
  const seconds = positive('--seconds', values.seconds) ?? 60;
  const rate = positive('--rate', values.rate) ?? 50;
  if (seconds * rate > MAX_MESSAGES) {
    throw new UsageError(
      `--seconds x --rate is ${seconds * rate} messages; the most is ` +
        `${MAX_MESSAGES}`,
    );
  }
  return {
    profile: profile ?? '',
    seconds,
    rate,
    seed: seedOf(values.seed),
    sets: values.set ?? [],
    json: values.json ?? false,
    noBaseline: values['no-baseline'] ?? false,
    loopback: values.loopback ?? false,
    keep: values.keep ?? false,
    help: values.help ?? false,
  };
}

function positive(flag: string, text: string | undefined) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} must be a number above 0, not ${text}`);
  }
  return n;
}

function seedOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(`--seed must be a whole number >= 0, not ${text}`);
  }
  return n;
}

/** `--set a.b=1` pairs as a nested object for readOverrides. */
export function overridesOf(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of sets) {
    const m = /^([A-Za-z]+)(?:\.([A-Za-z]+))?=(.+)$/.exec(pair);
    const [key, sub, text] = [m?.[1], m?.[2], m?.[3]];
    if (key === undefined || text === undefined) {
      throw new UsageError(`--set must be KEY=VALUE, not ${pair}`);
    }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      throw new UsageError(`--set ${key}: ${text} is not a number`);
    }
    if (sub === undefined) {
      out[key] = value;
      continue;
    }
    const group = out[key];
    const obj =
      typeof group === 'object' && group !== null
        ? (group as Record<string, unknown>)
        : {};
    obj[sub] = value;
    out[key] = obj;
  }
  return out;
}
