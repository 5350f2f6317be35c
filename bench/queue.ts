/**
 * Queue benchmark: prints figures, asserts nothing.
 *
 *   node --import tsx bench/queue.ts [DATA_DIR]
 *
 * LevelDB in a temporary folder (or DATA_DIR): appendMany throughput with
 * 256-byte items from one caller and from 50 concurrent callers, then a
 * 100k-item backlog drained by peek/ack, with the heap before and after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueId } from '../src/common/ids.ts';
import {
  openDataStore,
  QueueManager,
  type DurableQueue,
} from '../src/queue/index.ts';

const ITEM_BYTES = 256;
const RUN_MS = 3000;
const BACKLOG_ITEMS = 100_000;

const item = new Uint8Array(ITEM_BYTES).fill(0x5a);
const dir = process.argv[2] ?? (await mkdtemp(join(tmpdir(), 'wavemq-bench-')));
const store = await openDataStore(dir);
const manager = await QueueManager.open({ store });

async function queue(name: string): Promise<DurableQueue> {
  return manager.ensureQueue(name as QueueId, {
    kind: 'trunk',
    limits: {
      maxLength: 10_000_000,
      maxBytes: 8 * 1024 ** 3,
      maxAgeMs: Number.POSITIVE_INFINITY,
    },
    idleExpiryMs: undefined,
    record: null,
  });
}

function report(label: string, items: number, elapsedMs: number): void {
  const rate = Math.round((items / elapsedMs) * 1000);
  const mbps = ((rate * ITEM_BYTES) / 1024 ** 2).toFixed(1);
  console.log(
    `${label.padEnd(48)} ${String(rate).padStart(8)} items/s  ${mbps} MiB/s`,
  );
}

async function appendRun(
  label: string,
  callers: number,
  perCall: number,
): Promise<void> {
  const q = await queue(`append-${callers}-${perCall}`);
  const entries = Array.from({ length: perCall }, () => ({
    queue: q.id,
    bytes: item,
  }));
  let items = 0;
  const start = performance.now();
  const deadline = start + RUN_MS;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        await manager.appendMany(entries);
        items += perCall;
      }
    }),
  );
  report(label, items, performance.now() - start);
  await manager.deleteQueue(q.id);
}

function heapMiB(): string {
  global.gc?.();
  return (process.memoryUsage().heapUsed / 1024 ** 2).toFixed(1);
}

async function drainRun(): Promise<void> {
  const q = await queue('backlog');
  const heapBefore = heapMiB();
  const fillStart = performance.now();
  const batch = Array.from({ length: 1000 }, () => ({
    queue: q.id,
    bytes: item,
  }));
  for (let n = 0; n < BACKLOG_ITEMS; n += batch.length) {
    await manager.appendMany(batch);
  }
  report(
    'fill backlog, 1 caller x 1000 items/call',
    BACKLOG_ITEMS,
    performance.now() - fillStart,
  );
  console.log(
    `heap: ${heapBefore} MiB before fill, ${heapMiB()} MiB with ${q.length} items (${(q.bytes / 1024 ** 2).toFixed(1)} MiB) queued`,
  );
  for (const window of [100, 1000]) {
    const start = performance.now();
    let drained = 0;
    let after = q.headSeq - 1;
    while (drained < BACKLOG_ITEMS / 2) {
      const items = await q.peek(after, {
        maxItems: window,
        maxBytes: 1 << 22,
      });
      const last = items.at(-1);
      if (!last) break;
      await q.ack(last.seq);
      after = last.seq;
      drained += items.length;
    }
    report(
      `drain peek/ack, ${window} items per round`,
      drained,
      performance.now() - start,
    );
  }
}

console.log(
  `wavemq queue bench: LevelDB at ${dir}, ${ITEM_BYTES}-byte items, sync writes, group commit 2 ms`,
);
await appendRun('appendMany, 1 caller x 1 item/call', 1, 1);
await appendRun('appendMany, 1 caller x 100 items/call', 1, 100);
await appendRun('appendMany, 50 callers x 1 item/call', 50, 1);
await appendRun('appendMany, 50 callers x 10 items/call', 50, 10);
await drainRun();
await manager.close();
await store.close();
if (!process.argv[2]) await rm(dir, { recursive: true, force: true });
