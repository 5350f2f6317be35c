/**
 * The two queue store implementations, each able to "restart": close the
 * manager and open a new one on the same stored data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { ManualClock, type Clock } from '../../src/common/clock.ts';
import type { QueueId } from '../../src/common/ids.ts';
import { openDataStore, type DataStore } from '../../src/queue/data-store.ts';
import type { DurableQueue } from '../../src/queue/durable-queue.ts';
import {
  QueueManager,
  type QueueManagerOptions,
} from '../../src/queue/manager.ts';
import type { KvStore } from '../../src/queue/kv-store.ts';
import { LevelKvStore } from '../../src/queue/level-kv-store.ts';
import { MemoryKvStore } from '../../src/queue/memory-kv-store.ts';
import type { QueueSpec } from '../../src/queue/types.ts';

type ManagerOptions = Omit<QueueManagerOptions, 'store'>;

/** A manager on one backend, restartable on the same data. */
export interface Harness {
  manager: QueueManager;
  /**
   * Closes the manager and opens a new one on the same data, calling
   * `whileDown` in between (e.g. to move a clock).
   */
  restart(o?: ManagerOptions, whileDown?: () => void): Promise<QueueManager>;
  /** Closes the manager and the data; idempotent. */
  dispose(): Promise<void>;
  /** The raw key-value store under the manager, for white-box checks. */
  kv(): KvStore;
}

/** One store implementation under test. */
export interface Backend {
  name: 'leveldb' | 'memory';
  open(o?: ManagerOptions): Promise<Harness>;
}

/** A temporary folder, removed by the returned cleanup. */
export async function tempDir(): Promise<{
  path: string;
  remove: () => Promise<void>;
}> {
  const path = await mkdtemp(join(tmpdir(), 'wavemq-queue-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

const memory: Backend = {
  name: 'memory',
  async open(o = {}) {
    const kv = new MemoryKvStore();
    const h: Harness = {
      manager: await QueueManager.openOnKvStore(kv, o),
      async restart(next = o, whileDown) {
        await h.manager.close();
        whileDown?.();
        h.manager = await QueueManager.openOnKvStore(kv, next);
        return h.manager;
      },
      async dispose() {
        await h.manager.close();
        await kv.close();
      },
      kv: () => kv,
    };
    return h;
  },
};

const leveldb: Backend = {
  name: 'leveldb',
  async open(o = {}) {
    const dir = await tempDir();
    let store: DataStore = await openDataStore(dir.path);
    const h: Harness = {
      manager: await QueueManager.open({ ...o, store }),
      async restart(next = o, whileDown) {
        await h.manager.close();
        await store.close();
        whileDown?.();
        store = await openDataStore(dir.path);
        h.manager = await QueueManager.open({ ...next, store });
        return h.manager;
      },
      async dispose() {
        await h.manager.close();
        await store.close();
        await dir.remove();
      },
      kv: () => new LevelKvStore(store.db),
    };
    return h;
  },
};

/** Both store implementations; every conformance test runs on each. */
export const BACKENDS: readonly Backend[] = [memory, leveldb];

/** A spec with the given limits (defaults generous) and kind. */
export function spec(
  o: Partial<QueueSpec['limits']> & {
    kind?: QueueSpec['kind'];
    idleExpiryMs?: number;
    record?: unknown;
  } = {},
): QueueSpec {
  return {
    kind: o.kind ?? 'subscription',
    limits: {
      maxLength: o.maxLength ?? 1_000_000,
      maxBytes: o.maxBytes ?? 1 << 30,
      maxAgeMs: o.maxAgeMs ?? Number.POSITIVE_INFINITY,
    },
    idleExpiryMs: o.idleExpiryMs,
    record: o.record ?? { note: 'test' },
  };
}

/** Bytes of `size` filled with `fill` (mod 256). */
export function payload(size: number, fill = size): Uint8Array {
  return new Uint8Array(size).fill(fill & 0xff);
}

/** A queue id for tests. */
export function qid(name: string): QueueId {
  return name as QueueId;
}

/** A manual clock and options using it, with a zero group window. */
export function manual(): { clock: ManualClock; o: { clock: Clock } } {
  const clock = new ManualClock();
  return { clock, o: { clock } };
}

/** Payloads of `items` as plain arrays, for comparisons. */
export const bytesOf = (items: { bytes: Uint8Array }[]): number[][] =>
  items.map((i) => [...i.bytes]);

/** Opens `backend`, disposed when `t` ends. */
export async function withHarness(
  t: Test,
  backend: Backend,
  o: Parameters<Backend['open']>[0] = {},
): Promise<Harness> {
  const h = await backend.open(o);
  t.teardown(() => h.dispose());
  return h;
}

/** Queue `name` of `m`; throws when it was not recovered. */
export function reopened(m: QueueManager, name: string): DurableQueue {
  const q = m.get(qid(name));
  if (!q) throw new Error(`queue ${name} not recovered`);
  return q;
}
