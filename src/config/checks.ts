import { InvalidAddressError } from './errors.ts';
import { EXPECTED_HOST_PORT, parseHostPort } from './host-port.ts';
import { canonicalNamespace, NAMESPACE_EXPECTED } from './namespace.ts';

/**
 * Validates one config value: returns undefined when it is acceptable,
 * otherwise what was expected (`'a whole number greater than 0'`).
 */
export type Check = (value: unknown) => string | undefined;

const MS_PER_SECOND = 1000;
/** Bytes in the MiB that `...MaxSize` keys are written in. */
export const BYTES_PER_MIB = 1024 * 1024;
// Node fires a timer with a longer delay after 1 ms, so a larger
// interval would make the housekeeping loop spin.
const TIMER_MAX_MS = 2 ** 31 - 1;
const TEN_YEARS_S = 10 * 365 * 86400;

/** Seconds to whole milliseconds, rounded up so 0 < s gives >= 1 ms. */
export function secondsToMs(seconds: number): number {
  return Math.ceil(seconds * MS_PER_SECOND);
}

/** MiB to whole bytes, rounded up so 0 < m gives >= 1 byte. */
export function mibToBytes(mib: number): number {
  return Math.ceil(mib * BYTES_PER_MIB);
}

/** Any string (keys read for compatibility and then ignored). */
export const anyString: Check = (v) =>
  typeof v === 'string' ? undefined : 'a string';

/** true or false. */
export const boolean: Check = (v) =>
  typeof v === 'boolean' ? undefined : 'true or false';

/** A non-empty file system path. */
export const path: Check = (v) =>
  typeof v === 'string' && v !== '' && !v.includes('\0')
    ? undefined
    : 'a file system path (a non-empty string)';

/** A count: a whole number from 1 up. */
export const positiveCount: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) > 0
    ? undefined
    : 'a whole number greater than 0';

function positiveNumber(unit: string, max: number): Check {
  return (v) =>
    typeof v === 'number' && v > 0 && v <= max
      ? undefined
      : `a number of ${unit} greater than 0 and at most ${max}`;
}

/** A lifetime in seconds, up to ten years. */
export const lifetimeSeconds = positiveNumber('seconds', TEN_YEARS_S);
/** A timer period in seconds, up to what a Node timer can wait. */
export const periodSeconds = positiveNumber(
  'seconds',
  Math.floor(TIMER_MAX_MS / MS_PER_SECOND),
);
/** A size in MiB whose byte count stays an exact integer. */
export const sizeMiB = positiveNumber(
  'MiB',
  Math.floor(Number.MAX_SAFE_INTEGER / BYTES_PER_MIB),
);

/** `host:port` or `[ipv6]:port`, port 1..65535. */
export const hostPort: Check = (v) => {
  const expected = 'host:port with a port from 1 to 65535';
  if (typeof v !== 'string') return expected;
  try {
    parseHostPort(v);
    return undefined;
  } catch (err) {
    if (!(err instanceof InvalidAddressError)) throw err;
    const { reason } = err.data;
    return reason === EXPECTED_HOST_PORT ? expected : `${expected} (${reason})`;
  }
};

/** `host:port`, or an empty string meaning "disabled". */
export const hostPortOrOff: Check = (v) => {
  if (v === '') return undefined;
  const problem = hostPort(v);
  return problem && `${problem}, or "" to disable`;
};

/** A namespace hash, see `canonicalNamespace`. */
export const namespaceHash: Check = (v) =>
  typeof v === 'string' && canonicalNamespace(v) !== undefined
    ? undefined
    : NAMESPACE_EXPECTED;

/** An absolute http: or https: URL. */
export const httpUrl: Check = (v) => {
  const expected = 'an http:// or https:// URL';
  if (typeof v !== 'string' || !URL.canParse(v)) return expected;
  const { protocol } = new URL(v);
  return protocol === 'http:' || protocol === 'https:' ? undefined : expected;
};

/** The storage provider kind; only `http_v1` exists. */
export const storageProvider: Check = (v) =>
  v === 'http_v1' ? undefined : '"http_v1" (the only provider)';

/** A list; its elements are checked by the leaf's `each`. */
export const list: Check = (v) =>
  Array.isArray(v) ? undefined : 'a list, e.g. ["a", "b"]';

/** A table (its entries are checked against the leaf's `entry`). */
export const table: Check = (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? undefined
    : 'a table';
