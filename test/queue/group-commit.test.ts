import t from 'tap';
import { Registry } from 'prom-client';
import type { KvOp, KvStore } from '../../src/queue/kv-store.ts';
import { QueueManager } from '../../src/queue/manager.ts';
import { MemoryKvStore } from '../../src/queue/memory-kv-store.ts';
import { QueueWriteError } from '../../src/queue/errors.ts';
import { payload, qid, spec } from './backends.ts';

/** A memory store whose writes wait until released, and can fail. */
class GatedStore extends MemoryKvStore implements KvStore {
  writes: { ops: number; sync: boolean }[] = [];
  gate: Promise<void> | undefined;
  failNext = false;

  override async write(ops: KvOp[], o?: { sync: boolean }): Promise<void> {
    this.writes.push({ ops: ops.length, sync: o?.sync ?? false });
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    await super.write(ops);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

void t.test(
  'group commit: concurrent appends share one synced write',
  async (t) => {
    const kv = new GatedStore();
    const registry = new Registry();
    const m = await QueueManager.openOnKvStore(kv, {
      registry,
      groupCommitWindowMs: 5,
    });
    t.teardown(() => m.close());
    const a = await m.ensureQueue(qid('a'), spec());
    const b = await m.ensureQueue(qid('b'), spec());
    kv.writes = [];
    const calls = Array.from({ length: 20 }, (_, i) =>
      m.appendMany([
        { queue: a.id, bytes: payload(8, i) },
        { queue: b.id, bytes: payload(8, i) },
      ]),
    );
    await Promise.all(calls);
    t.equal(kv.writes.length, 1, 'one write for twenty calls');
    t.equal(kv.writes[0]?.sync, true, 'synced');
    t.equal(a.tailSeq, 20);
    const text = await registry.getSingleMetricAsString(
      'wavemq_queue_commit_calls',
    );
    // Two single-call batches created the queues; then one of twenty.
    t.match(text, /wavemq_queue_commit_calls_bucket\{le="10"\} 2\n/);
    t.match(text, /wavemq_queue_commit_calls_bucket\{le="20"\} 3\n/);
  },
);

void t.test(
  'group commit: resolves only once the write is durable',
  async (t) => {
    const kv = new GatedStore();
    const m = await QueueManager.openOnKvStore(kv, { groupCommitWindowMs: 0 });
    t.teardown(() => m.close());
    const q = await m.ensureQueue(qid('a'), spec());
    const gate = deferred();
    kv.gate = gate.promise;
    let resolved = false;
    const append = q.append(payload(4)).then((seq) => {
      resolved = true;
      return seq;
    });
    const waiting = q.waitForItems(0);
    await new Promise((r) => setTimeout(r, 20));
    t.equal(resolved, false, 'not before the write completes');
    t.equal(q.tailSeq, 0, 'not visible before it is durable');
    t.same(await q.peek(0, { maxItems: 5, maxBytes: 99 }), []);
    gate.resolve();
    t.equal(await append, 1);
    await waiting;
    t.equal(q.length, 1);
  },
);

void t.test(
  'group commit: a failed write rejects every caller and changes nothing',
  async (t) => {
    const kv = new GatedStore();
    const registry = new Registry();
    const m = await QueueManager.openOnKvStore(kv, {
      registry,
      groupCommitWindowMs: 5,
    });
    t.teardown(() => m.close());
    const q = await m.ensureQueue(qid('a'), spec({ maxLength: 2 }));
    await q.append(payload(1, 1));
    await q.append(payload(1, 2));
    kv.failNext = true;
    const results = await Promise.allSettled([
      q.append(payload(1, 3)),
      q.ack(1),
    ]);
    for (const r of results) {
      t.equal(r.status, 'rejected');
      if (r.status === 'rejected') t.type(r.reason, QueueWriteError);
    }
    t.same(
      { len: q.length, head: q.headSeq, tail: q.tailSeq, drops: q.drops },
      { len: 2, head: 1, tail: 2, drops: 0 },
    );
    t.equal(await q.append(payload(1, 3)), 3, 'the next write works');
    t.equal(q.drops, 1);
    const failures = await registry
      .getSingleMetric('wavemq_queue_commit_failures_total')
      ?.get();
    t.equal(failures?.values[0]?.value, 1);
  },
);

void t.test(
  'group commit: a refused call does not sink the others in its batch',
  async (t) => {
    const kv = new GatedStore();
    const m = await QueueManager.openOnKvStore(kv, { groupCommitWindowMs: 5 });
    t.teardown(() => m.close());
    const q = await m.ensureQueue(qid('a'), spec({ maxBytes: 10 }));
    await q.append(payload(1));
    const results = await Promise.allSettled([
      q.append(payload(2)),
      q.ack(99),
      m.deleteQueue(qid('other')),
      q.append(payload(3)),
    ]);
    t.same(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    t.equal(q.tailSeq, 3);
  },
);
