import type { ClassicLevel } from 'classic-level';
import type { KvOp, KvRange, KvStore } from './kv-store.ts';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** Entries fetched by the first native call of a scan. */
const FIRST_PAGE = 8;
/** Most entries one native call fetches (bounds the read-ahead). */
const MAX_PAGE = 256;

/**
 * A {@link KvStore} over a LevelDB opened with 'view' encodings. It does
 * not own the database: `close()` only stops this view from being used;
 * the data store handle closes LevelDB itself.
 */
export class LevelKvStore implements KvStore {
  constructor(private readonly db: Db) {}

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  async *scan(range: KvRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    const options: Record<string, unknown> = { limit: range.limit ?? -1 };
    for (const bound of ['gte', 'gt', 'lte', 'lt'] as const) {
      if (range[bound]) options[bound] = range[bound];
    }
    const iterator = this.db.iterator(options);
    try {
      // Pages rather than single entries: far fewer native round trips.
      // They start small because many scans stop after an item or two.
      for (let size = FIRST_PAGE; ; size = Math.min(size * 2, MAX_PAGE)) {
        const page = await iterator.nextv(size);
        if (page.length === 0) return;
        for (const entry of page) yield entry;
      }
    } finally {
      await iterator.close();
    }
  }

  async write(ops: KvOp[], o: { sync: boolean }): Promise<void> {
    await this.db.batch(ops, { sync: o.sync });
  }

  async clear(range: { gte: Uint8Array; lt: Uint8Array }): Promise<void> {
    await this.db.clear(range);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
