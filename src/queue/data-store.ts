import { errorMessage } from '../common/errors.ts';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

interface Shared {
  db: Db;
  refs: number;
  opened: Promise<void>;
}

/** Open databases by absolute path, shared by every handle on that path. */
const shared = new Map<string, Shared>();
/** Databases whose last handle closed, until LevelDB released the lock. */
const closing = new Map<string, Promise<void>>();

/**
 * A handle on the LevelDB at one absolute path. Handles on the same path
 * share one database (LevelDB allows one opener per folder); the database
 * closes when the last handle does.
 */
export class DataStore {
  private closedHandle = false;

  /** @internal Use {@link openDataStore}. */
  constructor(
    /** Absolute path of the database folder. */
    readonly path: string,
    /** The database, keys and values as Uint8Array. */
    readonly db: Db,
  ) {}

  /**
   * Releases this handle; the database closes with the last one.
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.closedHandle) return;
    this.closedHandle = true;
    const entry = shared.get(this.path);
    if (!entry || entry.db !== this.db) return;
    entry.refs -= 1;
    if (entry.refs > 0) return;
    shared.delete(this.path);
    const done = this.db.close().finally(() => closing.delete(this.path));
    closing.set(this.path, done);
    await done;
  }
}

/**
 * Opens (or joins) the LevelDB at `path`, creating the folder and its
 * parents if missing. Paths are compared after `path.resolve`, so two
 * spellings of one folder share a database; symbolic links are not
 * followed. Close every handle returned.
 * @throws the LevelDB open error (e.g. the folder is locked by another
 * process).
 */
export async function openDataStore(path: string): Promise<DataStore> {
  const absolute = resolve(path);
  await closing.get(absolute);
  let entry = shared.get(absolute);
  if (!entry) {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(absolute, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    const opened = mkdir(absolute, { recursive: true }).then(() => db.open());
    entry = { db, refs: 0, opened };
    shared.set(absolute, entry);
  }
  entry.refs += 1;
  try {
    await entry.opened;
  } catch (err) {
    if (shared.get(absolute) === entry) shared.delete(absolute);
    // LevelDB's own text says little; the usual cause is a second router
    // on the same folder (it holds the lock).
    throw new Error(
      `cannot open the data store ${absolute} (is another router using ` +
        `it?): ${errorMessage(err)}`,
      { cause: err },
    );
  }
  return new DataStore(absolute, entry.db);
}
