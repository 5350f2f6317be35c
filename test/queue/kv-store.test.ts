/**
 * One conformance suite for the two KvStore implementations (LevelDB and
 * in-memory): ordering, ranges, atomic batches, clears, snapshots.
 */
import t from 'tap';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import type { KvStore } from '../../src/queue/kv-store.ts';
import { LevelKvStore } from '../../src/queue/level-kv-store.ts';
import { MemoryKvStore } from '../../src/queue/memory-kv-store.ts';
import { tempDir } from './backends.ts';

interface Opened {
  kv: KvStore;
  dispose: () => Promise<void>;
}

const IMPLEMENTATIONS: { name: string; open: () => Promise<Opened> }[] = [
  {
    name: 'memory',
    open: () => {
      const kv = new MemoryKvStore();
      return Promise.resolve({ kv, dispose: () => kv.close() });
    },
  },
  {
    name: 'leveldb',
    open: async () => {
      const dir = await tempDir();
      const db = new ClassicLevel<Uint8Array, Uint8Array>(dir.path, {
        keyEncoding: 'view',
        valueEncoding: 'view',
      });
      await db.open();
      return {
        kv: new LevelKvStore(db),
        dispose: async () => {
          await db.close();
          await dir.remove();
        },
      };
    },
  },
];

const k = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function entries(
  kv: KvStore,
  range: Parameters<KvStore['scan']>[0] = {},
): Promise<string[]> {
  const out: string[] = [];
  for await (const [key, value] of kv.scan(range)) {
    out.push(`${hex(key)}=${hex(value)}`);
  }
  return out;
}

for (const impl of IMPLEMENTATIONS) {
  void t.test(`kv store (${impl.name})`, async (t) => {
    const { kv, dispose } = await impl.open();
    t.teardown(dispose);

    void t.test(
      'puts, gets and deletes in one atomic batch, later ops win',
      async (t) => {
        await kv.write(
          [
            { type: 'put', key: k(1), value: k(10) },
            { type: 'put', key: k(2), value: k(20) },
            { type: 'del', key: k(2) },
            { type: 'put', key: k(3), value: k(30) },
            { type: 'put', key: k(3), value: k(31) },
          ],
          { sync: true },
        );
        t.same(await kv.get(k(1)), k(10));
        t.equal(await kv.get(k(2)), undefined);
        t.same(await kv.get(k(3)), k(31));
        await kv.write(
          [
            { type: 'del', key: k(1) },
            { type: 'del', key: k(3) },
          ],
          {
            sync: false,
          },
        );
        t.same(await entries(kv), []);
      },
    );

    void t.test(
      'scans in unsigned bytewise order with bounds and limit',
      async (t) => {
        const keys = [k(0x05), k(0x05, 0x00), k(0x80), k(0xff), k(0x7f, 0xff)];
        await kv.write(
          keys.map((key) => ({ type: 'put', key, value: k(1) })),
          { sync: false },
        );
        t.same(await entries(kv), [
          '05=01',
          '0500=01',
          '7fff=01',
          '80=01',
          'ff=01',
        ]);
        t.same(await entries(kv, { gt: k(0x05), lt: k(0x80) }), [
          '0500=01',
          '7fff=01',
        ]);
        t.same(await entries(kv, { gte: k(0x05, 0x00), lte: k(0x80) }), [
          '0500=01',
          '7fff=01',
          '80=01',
        ]);
        t.same(await entries(kv, { gte: k(0x06), limit: 2 }), [
          '7fff=01',
          '80=01',
        ]);
        await kv.clear({ gte: k(0x05, 0x00), lt: k(0xff) });
        t.same(await entries(kv), ['05=01', 'ff=01']);
        await kv.clear({ gte: k(0), lt: k(0xff, 0xff) });
        t.same(await entries(kv), []);
      },
    );

    void t.test('a scan sees a snapshot taken when it starts', async (t) => {
      await kv.write(
        [1, 2, 3].map((n) => ({ type: 'put', key: k(n), value: k(n) })),
        { sync: false },
      );
      const seen: string[] = [];
      for await (const [key] of kv.scan({})) {
        seen.push(hex(key));
        if (seen.length === 1) {
          await kv.write([{ type: 'del', key: k(3) }], { sync: false });
          await kv.write([{ type: 'put', key: k(4), value: k(4) }], {
            sync: false,
          });
        }
      }
      t.same(seen, ['01', '02', '03']);
      await kv.clear({ gte: k(0), lt: k(0xff) });
    });

    void t.test(
      'matches a sorted-map model under random batches',
      async (t) => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.array(
                fc.record({
                  del: fc.boolean(),
                  key: fc.uint8Array({ minLength: 1, maxLength: 3, max: 4 }),
                }),
                { maxLength: 40 },
              ),
              { maxLength: 6 },
            ),
            async (batches) => {
              const model = new Map<string, string>();
              for (const [i, batch] of batches.entries()) {
                await kv.write(
                  batch.map((op) =>
                    op.del
                      ? { type: 'del' as const, key: op.key }
                      : { type: 'put' as const, key: op.key, value: k(i) },
                  ),
                  { sync: false },
                );
                for (const op of batch) {
                  if (op.del) model.delete(hex(op.key));
                  else model.set(hex(op.key), hex(k(i)));
                }
              }
              const expected = [...model.keys()]
                .sort((a, b) =>
                  Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')),
                )
                .map((key) => `${key}=${model.get(key)}`);
              const actual = await entries(kv);
              await kv.clear({ gte: k(0), lt: k(0xff) });
              return JSON.stringify(actual) === JSON.stringify(expected);
            },
          ),
          { numRuns: 60 },
        );
        t.pass('model agrees');
      },
    );
  });
}
