/**
 * A process appending and acking through the queue manager is killed
 * with SIGKILL; after reopening, every append it reported as resolved is
 * present with its bytes, and every acked item is gone.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { QueueId } from '../../src/common/ids.ts';
import { openDataStore, QueueManager } from '../../src/queue/index.ts';
import { tempDir } from './backends.ts';

const FIXTURE = fileURLToPath(
  new URL('./fixtures/append-until-killed.ts', import.meta.url),
);

interface Reports {
  appended: Map<string, Map<number, string>>;
  acked: Map<string, number>;
  /** Highest ack issued; it may be durable without its K line. */
  ackIssued: Map<string, number>;
  exitSignal: NodeJS.Signals | null;
}

/** Runs the child until `killAfter` appends were reported, then kills it. */
async function runChild(dir: string, killAfter: number): Promise<Reports> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const r: Reports = {
    appended: new Map(),
    acked: new Map(),
    ackIssued: new Map(),
    exitSignal: null,
  };
  let count = 0;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (_code, signal) => {
      r.exitSignal = signal;
      resolve();
    }),
  );
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const [kind, queue = '', seq = '', text = ''] = line.split(' ');
    if (kind === 'A') {
      const m = r.appended.get(queue) ?? new Map<number, string>();
      m.set(Number(seq), text);
      r.appended.set(queue, m);
      if (++count === killAfter) child.kill('SIGKILL');
    } else if (kind === 'k') {
      r.ackIssued.set(
        queue,
        Math.max(r.ackIssued.get(queue) ?? 0, Number(seq)),
      );
    } else if (kind === 'K') {
      r.acked.set(queue, Math.max(r.acked.get(queue) ?? 0, Number(seq)));
    }
  }
  await exited;
  return r;
}

async function check(t: Test, dir: string, r: Reports): Promise<void> {
  const store = await openDataStore(dir);
  const manager = await QueueManager.open({ store });
  try {
    for (const [queue, reported] of r.appended) {
      const q = manager.get(queue as QueueId);
      t.ok(q, `${queue} recovered`);
      if (!q) continue;
      const stored = new Map<number, string>();
      for (let after = 0; ;) {
        const items = await q.peek(after, {
          maxItems: 1000,
          maxBytes: 1 << 22,
        });
        if (items.length === 0) break;
        for (const i of items)
          stored.set(i.seq, Buffer.from(i.bytes).toString());
        after = (items.at(-1) as { seq: number }).seq;
      }
      const acked = r.acked.get(queue) ?? 0;
      const issued = r.ackIssued.get(queue) ?? 0;
      let missing = 0;
      let wrong = 0;
      for (const [seq, text] of reported) {
        // Between the last confirmed ack and the last issued one, an item
        // may be present or gone: the kill can fall between them.
        if (seq <= issued) continue;
        const got = stored.get(seq);
        if (got === undefined) missing += 1;
        else if (got !== text) wrong += 1;
      }
      t.equal(missing, 0, `${queue}: every reported append is stored`, {
        acked,
        issued,
        missingSeqs: [...reported.keys()]
          .filter((s) => s > issued && !stored.has(s))
          .slice(0, 20),
      });
      t.equal(wrong, 0, `${queue}: with its bytes`);
      t.notOk(
        [...stored.keys()].some((s) => s <= acked),
        `${queue}: acked items are gone`,
      );
      t.equal(q.length, stored.size, `${queue}: length matches the items`);
      t.ok(
        q.tailSeq >= Math.max(...reported.keys()),
        `${queue}: tailSeq covers reports`,
      );
      t.equal(
        await q.append(new Uint8Array(1)),
        q.tailSeq,
        `${queue}: appends go on`,
      );
    }
  } finally {
    await manager.close();
    await store.close();
  }
}

void t.test(
  'queue crash: SIGKILL loses no reported append and revives no ack',
  async (t) => {
    const dir = await tempDir();
    t.teardown(dir.remove);
    for (const killAfter of [300, 900]) {
      const r = await runChild(dir.path, killAfter);
      t.equal(r.exitSignal, 'SIGKILL', 'the child was killed');
      t.ok(
        (r.appended.get('trunk')?.size ?? 0) >= killAfter / 2,
        'it appended',
      );
      t.ok((r.acked.get('trunk') ?? 0) > 0, 'it acked');
      await check(t, dir.path, r);
    }
  },
);
