/**
 * Options of the `http_v1` storage client, field by field with their
 * defaults, and the one function that fills the defaults and checks them.
 */
import {
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
} from '../common/index.ts';
import { InvalidArgumentError } from './errors.ts';
import type { WaveMetrics } from './metrics.ts';

/** Options of `HttpStorageProvider` (storage.ts). */
export interface HttpStorageOptions {
  /** Name of the provider, for logs, metrics and errors. */
  name: string;
  /**
   * Base URL, e.g. `https://standalone.storage.bwave.io/v1`; a trailing
   * slash is ignored. Only http: and https: are accepted.
   */
  url: string;
  /** Longest wait for one answer, ms; default 3000. */
  timeoutMs?: number;
  /**
   * After a failed lookup, revocation lookups answer "unknown" at once,
   * without a request, for this long, ms; default 30,000. A site with no
   * Internet must not wait a timeout on every check.
   */
  retryAfterMs?: number;
  /** How long a "not revoked" answer is reused, ms; default 60,000. */
  unrevokedTtlMs?: number;
  /**
   * Most answers kept in each cache (revoked, not revoked); default
   * 10,000. Overflow evicts the least recently used. Revoked answers are
   * otherwise kept for good: revocation is permanent.
   */
  maxCacheEntries?: number;
  /** Source of "now" for caches and backoff; default the system clock. */
  clock?: Clock;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
  /** Where to log provider failures and recoveries; default silent. */
  logger?: Logger;
  /** Where to count revocation lookups; default not counted. */
  metrics?: WaveMetrics;
}

/** Default longest wait for a storage answer, ms. */
export const DEFAULT_STORAGE_TIMEOUT_MS = 3000;
/** Default quiet time after a failed revocation lookup, ms. */
export const DEFAULT_STORAGE_RETRY_AFTER_MS = 30_000;
/** Default reuse time of a "not revoked" answer, ms. */
export const DEFAULT_UNREVOKED_TTL_MS = 60_000;
/** Default bound of each revocation answer cache, entries. */
export const DEFAULT_REVOCATION_CACHE_ENTRIES = 10_000;

/** The options with every default filled in and checked. */
export interface StorageSettings {
  url: string;
  timeoutMs: number;
  retryAfterMs: number;
  unrevokedTtlMs: number;
  maxCacheEntries: number;
  clock: Clock;
  fetch: typeof fetch;
  logger: Logger;
  metrics: WaveMetrics | undefined;
}

/**
 * Fills in the defaults of `o` and checks every value.
 * @throws InvalidArgumentError naming the option at fault.
 */
export function resolveOptions(o: HttpStorageOptions): StorageSettings {
  return {
    url: baseUrl(o.url),
    timeoutMs: option(o, 'timeoutMs', DEFAULT_STORAGE_TIMEOUT_MS, 1),
    retryAfterMs: option(o, 'retryAfterMs', DEFAULT_STORAGE_RETRY_AFTER_MS, 0),
    unrevokedTtlMs: option(o, 'unrevokedTtlMs', DEFAULT_UNREVOKED_TTL_MS, 0),
    maxCacheEntries: option(
      o,
      'maxCacheEntries',
      DEFAULT_REVOCATION_CACHE_ENTRIES,
      1,
    ),
    clock: o.clock ?? systemClock,
    fetch: o.fetch ?? ((input, init) => fetch(input, init)),
    logger: o.logger ?? silentLogger(),
    metrics: o.metrics,
  };
}

/** The base URL without trailing slashes, checked. */
function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badOption('url', `'${text}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badOption('url', `'${text}' is not an http: or https: URL`);
  }
  if (url.search || url.hash) {
    throw badOption('url', `'${text}' has a query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

type NumericOption =
  'timeoutMs' | 'retryAfterMs' | 'unrevokedTtlMs' | 'maxCacheEntries';

/** A numeric option: an integer of at least `min`, or its default. */
function option(
  o: HttpStorageOptions,
  name: NumericOption,
  fallback: number,
  min: number,
): number {
  const v = o[name] ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    throw badOption(name, `must be an integer of at least ${min}, not ${v}`);
  }
  return v;
}

function badOption(argument: string, reason: string): InvalidArgumentError {
  return new InvalidArgumentError(`storage option ${argument}: ${reason}`, {
    argument,
    reason,
  });
}
