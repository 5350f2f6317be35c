/**
 * Field checks of profile files: each reads one value from a parsed JSON
 * object and throws a {@link ProfileError} naming the field's dotted path.
 */
import { ProfileError } from './errors.ts';

/** A JSON object being read, with where it sits in its profile. */
export class FieldReader {
  private readonly seen = new Set<string>();

  /**
   * @param profile profile name or path, for error messages.
   * @param path dotted path of this object ('' at the top).
   * @param obj the object; anything else throws.
   */
  constructor(
    readonly profile: string,
    readonly path: string,
    readonly obj: Record<string, unknown>,
  ) {}

  /** Reads `value` as an object at `path` of `profile`. */
  static of(profile: string, path: string, value: unknown): FieldReader {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw fieldError(profile, path || '(top)', 'must be an object');
    }
    return new FieldReader(profile, path, value as Record<string, unknown>);
  }

  /** Dotted path of `key` inside this object. */
  pathOf(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  /** Raw value of `key`, marking it as known. */
  raw(key: string): unknown {
    this.seen.add(key);
    return this.obj[key];
  }

  /** A number in [min, max], or undefined when absent. */
  number(key: string, min: number, max: number): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw this.error(key, `must be a number from ${min} to ${max}`);
    }
    return v;
  }

  /** An integer in [min, max], or undefined when absent. */
  integer(key: string, min: number, max: number): number | undefined {
    const v = this.number(key, min, max);
    if (v !== undefined && !Number.isInteger(v)) {
      throw this.error(key, `must be an integer from ${min} to ${max}`);
    }
    return v;
  }

  /** A string, or undefined when absent. */
  string(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.error(key, 'must be a string');
    return v;
  }

  /** One of `choices`, or undefined when absent. */
  choice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      throw this.error(key, `must be one of ${choices.join(', ')}`);
    }
    return v as T;
  }

  /** A nested object reader, or undefined when absent. */
  child(key: string): FieldReader | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    return FieldReader.of(this.profile, this.pathOf(key), v);
  }

  /** An array, or undefined when absent. */
  array(key: string): unknown[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw this.error(key, 'must be an array');
    return v as unknown[];
  }

  /** Throws for the first key that no reader asked for (a typo). */
  rejectUnknown(): void {
    for (const key of Object.keys(this.obj)) {
      if (!this.seen.has(key)) throw this.error(key, 'is not a known field');
    }
  }

  /** A {@link ProfileError} about `key`. */
  error(key: string, problem: string): ProfileError {
    return fieldError(this.profile, this.pathOf(key), problem);
  }
}

/** A {@link ProfileError} with a message naming profile and field. */
export function fieldError(
  profile: string,
  field: string,
  problem: string,
): ProfileError {
  return new ProfileError(`profile "${profile}": ${field} ${problem}`, {
    profile,
    field,
    problem,
  });
}
