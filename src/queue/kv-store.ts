/**
 * The ordered key-value store under the queues. Two implementations:
 * LevelDB (level-kv-store.ts) and in-memory (memory-kv-store.ts); one
 * conformance suite (test/queue/kv-store-conformance.ts) runs on both.
 */

/** One write in an atomic batch. Later operations win over earlier ones. */
export type KvOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array };

/** A key range; bounds compare bytewise, unsigned. */
export interface KvRange {
  gte?: Uint8Array;
  gt?: Uint8Array;
  lte?: Uint8Array;
  lt?: Uint8Array;
  /** Most entries to yield; default unlimited. */
  limit?: number;
}

/** An ordered map of byte strings with atomic batches. */
export interface KvStore {
  /** The value under `key`, or undefined. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * Entries in ascending key order within `range`, from a consistent
   * snapshot taken when iteration starts. Stopping early (break) releases
   * the snapshot.
   */
  scan(range: KvRange): AsyncIterable<[Uint8Array, Uint8Array]>;
  /**
   * Applies every operation or none. With `sync`, resolves only once the
   * batch is on stable storage (fsync), so it survives power loss.
   */
  write(ops: KvOp[], o: { sync: boolean }): Promise<void>;
  /** Deletes every key in [gte, lt); not atomic with other writes. */
  clear(range: { gte: Uint8Array; lt: Uint8Array }): Promise<void>;
  /** Releases the store. Further calls fail. */
  close(): Promise<void>;
}

/** Bytewise unsigned comparison of two keys, like LevelDB's. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
