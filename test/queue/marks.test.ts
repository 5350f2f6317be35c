import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { QueueManager, openDataStore } from '../../src/queue/index.ts';

t.test(
  'queue manager: marks of one router table are listed, and deleted only when still stale in commit order',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-marks-'));
    const store = await openDataStore(dir);
    const m = await QueueManager.open({ store, groupCommitWindowMs: 50 });
    t.teardown(async () => {
      await m.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const key = (tag: number, n: number): Uint8Array => Uint8Array.of(tag, n);
    await m.appendMany([], {
      marks: [
        { key: key(0x16, 1), value: Uint8Array.of(0) },
        { key: key(0x16, 2), value: Uint8Array.of(0) },
        { key: key(0x16, 3), value: Uint8Array.of(0) },
        { key: key(0x15, 1), value: Uint8Array.of(0) },
      ],
    });
    const listed: number[] = [];
    for await (const [k] of m.marks(0x16)) listed.push(k[1]!);
    t.same(listed, [1, 2, 3], 'only the table asked for');

    // Mark 2 is written again (no longer stale) by an append made before
    // the deletion; both share one batch.
    const rewritten = m.appendMany([], {
      marks: [{ key: key(0x16, 2), value: Uint8Array.of(1) }],
    });
    const gone = await m.deleteMarks(
      [key(0x16, 1), key(0x16, 2), key(0x16, 9)],
      (v) => v[0] === 0,
    );
    await rewritten;
    t.same(
      gone.map((k) => k[1]),
      [1],
      'the rewritten and the missing marks stay',
    );
    t.equal(await m.readMark(key(0x16, 1)), undefined);
    t.same([...((await m.readMark(key(0x16, 2))) ?? [])], [1]);
    t.ok(await m.readMark(key(0x16, 3)));
    await t.rejects(
      m.deleteMarks([Uint8Array.of(0x04, 1)], () => true),
      /router table tag/,
      'keys outside the router tables are refused',
    );
  },
);
