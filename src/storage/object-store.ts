/**
 * Objects by hash on a key-value store. The key is the object's
 * BLAKE2b-256 multihash bytes (36 bytes), the value the object itself.
 * The store is the storage server's own, so no table tag is needed.
 */
import type { EntityHash } from '../common/index.ts';
import type { KvStore } from '../queue/index.ts';
import { hashOf, hashToBytes } from '../wave/index.ts';

/** Stores and finds objects by their hash. */
export class ObjectStore {
  constructor(private readonly kv: KvStore) {}

  /** The object named `hash`, or undefined. */
  get(hash: EntityHash): Promise<Uint8Array | undefined> {
    return this.kv.get(hashToBytes(hash));
  }

  /**
   * Stores `bytes` under their hash in one synced write (a revocation
   * that was acknowledged must survive a power loss). `created` is false
   * when the object was already there; nothing is written then.
   */
  async put(
    bytes: Uint8Array,
  ): Promise<{ hash: EntityHash; created: boolean }> {
    const hash = hashOf(bytes);
    const key = hashToBytes(hash);
    if (await this.kv.get(key)) return { hash, created: false };
    await this.kv.write([{ type: 'put', key, value: bytes }], { sync: true });
    return { hash, created: true };
  }
}
