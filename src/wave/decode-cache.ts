/**
 * A bounded memo of decoded, verified immutable objects keyed by the hash
 * of their bytes: the same namespace entity and grants appear in many
 * proofs, and checking their signatures again would cost Ed25519 verifies
 * for nothing. Only successes are kept; overflow evicts the least recently
 * used entry.
 */
import { LruMap } from '../common/index.ts';
import { hashOf } from './hash.ts';

/** Default bound of each decode memo, entries. */
export const DECODE_CACHE_ENTRIES = 4096;

/** Memo of `decode(bytes)` by content hash. */
export class DecodeCache<T> {
  private readonly map: LruMap<string, T>;

  constructor(maxEntries = DECODE_CACHE_ENTRIES) {
    this.map = new LruMap(maxEntries);
  }

  /** The memoised result for `bytes`, decoding (and keeping) on a miss. */
  get(bytes: Uint8Array, decode: (b: Uint8Array) => T): T {
    const key = hashOf(bytes);
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = decode(bytes);
    this.map.set(key, value);
    return value;
  }
}
