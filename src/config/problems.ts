import { ConfigError } from './errors.ts';

/** One thing wrong with a configuration, found while reading it. */
export interface Problem {
  /** Key path, e.g. `RoutingConfig.Router[0].Namespace`. */
  key: string;
  /** What is wrong and what is expected. */
  message: string;
}

/** True for a TOML table (not an array, a date or a scalar). */
export function isTable(v: unknown): v is Record<string, unknown> {
  return Object.prototype.toString.call(v) === '[object Object]';
}

/** A value as it should appear in an error message: short, quoted. */
export function showValue(v: unknown): string {
  const text =
    v instanceof Date
      ? v.toISOString()
      : typeof v === 'number' || typeof v === 'bigint'
        ? String(v)
        : JSON.stringify(v);
  return text.length > 72 ? `${text.slice(0, 69)}...` : text;
}

/**
 * The problem text for a value that failed a check: says what was
 * expected and what was found, and points at template placeholders.
 */
export function describeMismatch(expected: string, value: unknown): string {
  if (value === null || value === undefined) {
    return `missing; expected ${expected}`;
  }
  const found = `expected ${expected}, got ${showValue(value)}`;
  // The shipped template holds sentences such as "the designated router
  // address" where a value belongs; say so rather than only "bad value".
  const words = typeof value === 'string' ? value.trim().split(/\s+/) : [];
  return words.length >= 3
    ? `${found} (placeholder text from the template? replace it)`
    : found;
}

/**
 * Throws one {@link ConfigError} listing every problem, one line each,
 * prefixed with the file; `data.key` is the first problem's key. Returns
 * when there are none.
 */
export function throwIfProblems(
  problems: readonly Problem[],
  file: string | undefined,
): void {
  const first = problems[0];
  if (first === undefined) return;
  const where = file ?? 'built-in configuration';
  const lines = problems.map((p) => `${where}: ${p.key}: ${p.message}`);
  throw new ConfigError(lines.join('\n'), { file, key: first.key });
}
