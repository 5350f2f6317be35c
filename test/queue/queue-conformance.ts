/**
 * The durable-queue conformance suite: every behaviour the router relies
 * on, run once per store implementation (see durable-queue.test.ts).
 * Appending, reading, acking, limits and recovery are here; deletion,
 * waiting, sweeps and leftovers in queue-conformance-lifecycle.ts.
 */
import type { Test } from 'tap';
import {
  QueueAckOutOfRangeError,
  QueueItemTooLargeError,
  QueueNotFoundError,
} from '../../src/queue/errors.ts';
import type { Backend } from './backends.ts';
import {
  bytesOf,
  manual,
  payload,
  qid,
  reopened,
  spec,
  withHarness,
} from './backends.ts';
import { lifecycleConformance } from './queue-conformance-lifecycle.ts';

/** Registers the whole suite's tests for `backend` under `t`. */
export function queueConformance(t: Test, backend: Backend): void {
  void t.test(
    'durable queue: appends get increasing seqs, peek returns them in order',
    async (t) => {
      const { clock, o } = manual();
      const h = await withHarness(t, backend, o);
      const q = await h.manager.ensureQueue(qid('a'), spec());
      t.equal(q.tailSeq, 0);
      t.equal(q.headSeq, 0);
      t.equal(await q.append(payload(3, 1)), 1);
      clock.advance(5);
      t.equal(await q.append(payload(2, 2)), 2);
      t.equal(q.length, 2);
      t.equal(q.bytes, 5);
      t.equal(q.headSeq, 1);
      t.equal(q.oldestEnqueuedAtMs, clock.now() - 5);
      const items = await q.peek(0, { maxItems: 10, maxBytes: 100 });
      t.same(
        items.map((i) => i.seq),
        [1, 2],
      );
      t.same(bytesOf(items), [
        [1, 1, 1],
        [2, 2],
      ]);
      t.same(
        items.map((i) => i.enqueuedAtMs),
        [clock.now() - 5, clock.now()],
      );
      t.equal(q.length, 2, 'peek removes nothing');
    },
  );

  void t.test(
    'durable queue: peek honours afterSeq, maxItems and maxBytes',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec());
      for (let i = 1; i <= 6; i++) await q.append(payload(10, i));
      const seqs = async (after: number, maxItems: number, maxBytes: number) =>
        (await q.peek(after, { maxItems, maxBytes })).map((i) => i.seq);
      t.same(await seqs(2, 10, 1000), [3, 4, 5, 6]);
      t.same(await seqs(2, 2, 1000), [3, 4]);
      t.same(await seqs(0, 10, 25), [1, 2]);
      t.same(await seqs(0, 10, 5), [1], 'first item even when larger');
      t.same(await seqs(6, 10, 1000), []);
      t.same(await seqs(-1, 1, 1000), [1]);
      t.same(await seqs(0, 0, 1000), []);
    },
  );

  void t.test(
    'durable queue: ack removes items durably and ignores old seqs',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec());
      for (let i = 1; i <= 5; i++) await q.append(payload(4, i));
      await q.ack(2);
      t.equal(q.headSeq, 3);
      t.equal(q.length, 3);
      t.equal(q.bytes, 12);
      await q.ack(1);
      await q.ack(2);
      t.equal(q.length, 3, 'acking removed seqs changes nothing');
      await t.rejects(q.ack(6), QueueAckOutOfRangeError);
      await t.rejects(q.ack(3.5), QueueAckOutOfRangeError);
      t.equal(q.length, 3, 'a refused ack removes nothing');
      const m = await h.restart();
      const r = reopened(m, 'a');
      t.same(
        (await r.peek(0, { maxItems: 9, maxBytes: 999 })).map((i) => i.seq),
        [3, 4, 5],
      );
      await r.ack(5);
      t.equal(r.length, 0);
      t.equal(r.headSeq, 0);
      t.equal(r.bytes, 0);
      t.equal(r.oldestEnqueuedAtMs, undefined);
    },
  );

  void t.test(
    'durable queue: drops oldest when full and counts the drop',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec({ maxLength: 3 }));
      for (let i = 1; i <= 5; i++) await q.append(payload(1, i));
      t.equal(q.length, 3);
      t.equal(q.drops, 2);
      t.equal(q.headSeq, 3);
      t.same(bytesOf(await q.peek(0, { maxItems: 9, maxBytes: 99 })), [
        [3],
        [4],
        [5],
      ]);
      const r = reopened(await h.restart(), 'a');
      t.equal(r.drops, 2, 'drop count survives a restart');
      t.equal(r.length, 3);
    },
  );

  void t.test(
    'durable queue: drops as many oldest items as a large item needs',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec({ maxBytes: 100 }));
      for (let i = 1; i <= 10; i++) await q.append(payload(10, i));
      t.equal(q.bytes, 100);
      await q.append(payload(35, 11));
      t.equal(q.bytes, 95);
      t.equal(q.drops, 4);
      t.equal(q.headSeq, 5);
      await q.append(payload(100, 12));
      t.equal(q.length, 1, 'an item of exactly maxBytes empties the queue');
      t.equal(q.drops, 11);
      t.equal(q.headSeq, 12);
    },
  );

  void t.test(
    'durable queue: refuses an item larger than maxBytes before writing',
    async (t) => {
      const h = await withHarness(t, backend);
      const a = await h.manager.ensureQueue(qid('a'), spec({ maxBytes: 10 }));
      const b = await h.manager.ensureQueue(qid('b'), spec({ maxBytes: 100 }));
      await t.rejects(
        h.manager.appendMany([
          { queue: b.id, bytes: payload(50) },
          { queue: a.id, bytes: payload(11) },
        ]),
        QueueItemTooLargeError,
      );
      t.equal(a.tailSeq + b.tailSeq, 0, 'nothing was appended anywhere');
      await t.rejects(
        h.manager.appendMany([
          { queue: b.id, bytes: payload(1) },
          { queue: qid('missing'), bytes: payload(1) },
        ]),
        QueueNotFoundError,
      );
      t.equal(b.tailSeq, 0);
    },
  );

  void t.test(
    'durable queue: appendMany returns seqs in entry order across queues',
    async (t) => {
      const h = await withHarness(t, backend);
      const a = await h.manager.ensureQueue(qid('a'), spec());
      const b = await h.manager.ensureQueue(qid('b'), spec({ kind: 'trunk' }));
      const out = await h.manager.appendMany([
        { queue: a.id, bytes: payload(1, 1) },
        { queue: b.id, bytes: payload(1, 2) },
        { queue: a.id, bytes: payload(1, 3) },
      ]);
      t.same(out, [
        { queue: a.id, seq: 1 },
        { queue: b.id, seq: 1 },
        { queue: a.id, seq: 2 },
      ]);
      t.same(await h.manager.appendMany([]), []);
      const concurrent = await Promise.all(
        [1, 2, 3, 4].map((n) => a.append(payload(1, n))),
      );
      t.same(concurrent, [3, 4, 5, 6], 'concurrent calls keep call order');
    },
  );

  void t.test(
    'durable queue: seqs never restart, even after a full ack and restart',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec());
      for (let i = 0; i < 4; i++) await q.append(payload(2));
      await q.ack(4);
      const r = reopened(await h.restart(), 'a');
      t.equal(r.tailSeq, 4);
      t.equal(r.length, 0);
      t.equal(await r.append(payload(2)), 5);
    },
  );

  void t.test(
    'durable queue: restart recovers spec, record and counters',
    async (t) => {
      const { clock, o } = manual();
      const h = await withHarness(t, backend, o);
      const s = spec({
        kind: 'downlink',
        maxLength: 50,
        maxBytes: 5000,
        maxAgeMs: 60_000,
        idleExpiryMs: 3_600_000,
        record: { peer: 'sr1', bin: new Uint8Array([1, 2]) },
      });
      const q = await h.manager.ensureQueue(qid('dl/1'), s);
      await h.manager.ensureQueue(qid('t'), spec({ kind: 'trunk' }));
      await q.append(payload(7));
      clock.advance(10);
      await q.append(payload(9));
      const before = {
        head: q.headSeq,
        tail: q.tailSeq,
        len: q.length,
        bytes: q.bytes,
        oldest: q.oldestEnqueuedAtMs,
      };
      const m = await h.restart();
      t.same(
        m
          .list()
          .map((x) => x.id)
          .sort(),
        ['dl/1', 't'],
      );
      const r = reopened(m, 'dl/1');
      t.same(r.spec.limits, s.limits);
      t.equal(r.spec.kind, 'downlink');
      t.equal(r.spec.idleExpiryMs, 3_600_000);
      t.same(r.spec.record, { peer: 'sr1', bin: new Uint8Array([1, 2]) });
      t.same(
        {
          head: r.headSeq,
          tail: r.tailSeq,
          len: r.length,
          bytes: r.bytes,
          oldest: r.oldestEnqueuedAtMs,
        },
        before,
      );
      t.equal(reopened(m, 't').spec.limits.maxAgeMs, Number.POSITIVE_INFINITY);
      t.equal(reopened(m, 't').spec.idleExpiryMs, undefined);
    },
  );

  void t.test(
    'durable queue: ensureQueue keeps the backlog and trims to smaller limits',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec({ record: 1 }));
      for (let i = 1; i <= 6; i++) await q.append(payload(10, i));
      const same = await h.manager.ensureQueue(qid('a'), spec({ record: 2 }));
      t.equal(same, q, 'the same queue object');
      t.equal(q.length, 6);
      t.equal(q.spec.record, 2);
      await h.manager.ensureQueue(qid('a'), spec({ maxLength: 4, record: 3 }));
      t.equal(q.length, 4);
      t.equal(q.drops, 2);
      await h.manager.ensureQueue(qid('a'), spec({ maxBytes: 25, record: 3 }));
      t.equal(q.length, 2);
      t.equal(q.drops, 4);
      t.same(
        bytesOf(await q.peek(0, { maxItems: 9, maxBytes: 99 })).map(
          (b) => b[0],
        ),
        [5, 6],
      );
      const r = reopened(await h.restart(), 'a');
      t.equal(r.spec.limits.maxBytes, 25);
      t.equal(r.spec.record, 3);
    },
  );

  lifecycleConformance(t, backend);
}
