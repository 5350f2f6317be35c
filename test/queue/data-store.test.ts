import t from 'tap';
import { join } from 'node:path';
import { openDataStore } from '../../src/queue/data-store.ts';
import { QueueManager } from '../../src/queue/manager.ts';
import { payload, qid, spec, tempDir } from './backends.ts';

void t.test(
  'data store: handles on one path share a database until the last closes',
  async (t) => {
    const dir = await tempDir();
    t.teardown(dir.remove);
    const path = join(dir.path, 'nested', 'db');
    const [a, b] = await Promise.all([
      openDataStore(path),
      openDataStore(path + '/./'),
    ]);
    t.equal(a.db, b.db, 'one LevelDB for both spellings of the path');
    t.equal(a.path, path);
    await a.db.put(Uint8Array.of(0x10), Uint8Array.of(1));
    await a.close();
    await a.close();
    t.equal(a.db.status, 'open', 'still open while a handle remains');
    t.same(await b.db.get(Uint8Array.of(0x10)), Uint8Array.of(1));
    await b.close();
    t.equal(b.db.status, 'closed');
    const c = await openDataStore(path);
    t.not(c.db, a.db, 'a fresh database after the last close');
    t.same(await c.db.get(Uint8Array.of(0x10)), Uint8Array.of(1));
    await c.close();
  },
);

void t.test(
  'data store: queue tables and router tables live side by side',
  async (t) => {
    const dir = await tempDir();
    t.teardown(dir.remove);
    const queues = await openDataStore(dir.path);
    const router = await openDataStore(dir.path);
    const routerKey = Uint8Array.of(0x11, 0x61);
    await router.db.put(routerKey, Uint8Array.of(7));
    let m = await QueueManager.open({ store: queues });
    const q = await m.ensureQueue(qid('a'), spec());
    await q.append(payload(3));
    await m.close();
    m = await QueueManager.open({ store: queues });
    t.equal(m.get(qid('a'))?.length, 1);
    t.same(await router.db.get(routerKey), Uint8Array.of(7), 'router key kept');
    await m.close();
    await queues.close();
    await router.close();
  },
);

void t.test(
  'data store: a failed open leaves nothing half-shared',
  async (t) => {
    const dir = await tempDir();
    t.teardown(dir.remove);
    const file = join(dir.path, 'file');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, 'not a folder');
    await t.rejects(openDataStore(join(file, 'db')));
    await t.rejects(openDataStore(join(file, 'db')), 'fails again, not stuck');
  },
);
