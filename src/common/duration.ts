import { WavemqError } from './errors.ts';

/** A duration string could not be read. */
export class DurationError extends WavemqError<{ input: string }> {
  readonly code = 'DURATION_INVALID';
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/**
 * Milliseconds in a duration such as `500ms`, `90s`, `15m`, `12h`, `30d`,
 * `2w`, `1y`, or a sum like `1d12h`. A bare number means seconds.
 * @throws DurationError naming the input.
 */
export function parseDuration(input: string): number {
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (text.length === 0 || end !== text.length) {
    throw new DurationError(
      `'${input}' is not a duration: use a number with a unit, e.g. 90s, ` +
        '15m, 12h, 30d, 1y',
      { input },
    );
  }
  return Math.round(total);
}
