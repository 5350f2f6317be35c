import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { QueueManager, openDataStore } from '../../src/queue/index.ts';
import { BACKENDS } from './backends.ts';
import { queueConformance } from './queue-conformance.ts';

for (const backend of BACKENDS) {
  void t.test(`queue store: ${backend.name}`, (t) => {
    queueConformance(t, backend);
    t.end();
  });
}

t.test(
  'queue manager: marks are written atomically with appends and read back after reopen',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-marks-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const key = Uint8Array.of(0x14, 1, 2, 3);
    let store = await openDataStore(dir);
    let m = await QueueManager.open({ store });
    const q = 'q' as Parameters<typeof m.get>[0];
    await m.ensureQueue(q, {
      kind: 'trunk',
      limits: { maxLength: 10, maxBytes: 1000, maxAgeMs: Infinity },
      idleExpiryMs: undefined,
      record: null,
    });
    await m.appendMany([{ queue: q, bytes: Uint8Array.of(1) }], {
      marks: [{ key, value: Uint8Array.of(42) }],
    });
    await m.appendMany([], { marks: [{ key, value: Uint8Array.of(43) }] });
    await t.rejects(
      m.appendMany([], {
        marks: [{ key: Uint8Array.of(0x04), value: Uint8Array.of(1) }],
      }),
      /router table tag/,
      'keys outside the router tables are refused',
    );
    await m.close();
    await store.close();
    store = await openDataStore(dir);
    m = await QueueManager.open({ store });
    t.same(
      [...((await m.readMark(key)) ?? [])],
      [43],
      'the latest mark survived',
    );
    t.equal(m.get(q)?.length, 1);
    await m.close();
    await store.close();
  },
);
