/**
 * Second half of the durable-queue conformance suite (see
 * queue-conformance.ts): deletion, waiting, sweeps, expiry, leftovers.
 */
import type { Test } from 'tap';
import { QueueNotFoundError } from '../../src/queue/errors.ts';
import { itemKey } from '../../src/queue/keys.ts';
import { newItemValue } from '../../src/queue/records.ts';
import type { Backend } from './backends.ts';
import {
  manual,
  payload,
  qid,
  reopened,
  spec,
  withHarness,
} from './backends.ts';

/** Registers the lifecycle tests for `backend` under `t`. */
export function lifecycleConformance(t: Test, backend: Backend): void {
  void t.test(
    'durable queue: deleteQueue removes it, its items and its waiters',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec());
      for (let i = 0; i < 3; i++) await q.append(payload(5));
      const waiting = t.rejects(q.waitForItems(3), { code: 'QUEUE_DELETED' });
      await h.manager.deleteQueue(qid('a'));
      await waiting;
      t.equal(h.manager.get(qid('a')), undefined);
      await t.rejects(q.append(payload(1)), QueueNotFoundError);
      await t.rejects(q.ack(1), QueueNotFoundError);
      await h.manager.deleteQueue(qid('a'));
      const again = await h.manager.ensureQueue(qid('a'), spec());
      t.equal(again.length, 0);
      t.equal(again.tailSeq, 0);
      t.equal(await again.append(payload(1)), 1);
      t.same((await again.peek(0, { maxItems: 9, maxBytes: 99 })).length, 1);
      const m = await h.restart();
      t.equal(reopened(m, 'a').length, 1);
    },
  );

  void t.test(
    'durable queue: waitForItems wakes on append and stops on abort',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec());
      await q
        .waitForItems(-1)
        .catch(() => t.fail('tail 0 > -1 resolves at once'));
      let woke = false;
      const waiting = q.waitForItems(0).then(() => (woke = true));
      await new Promise((r) => setTimeout(r, 5));
      t.equal(woke, false);
      await q.append(payload(1));
      await waiting;
      t.equal(woke, true);
      await q.waitForItems(0);
      const ac = new AbortController();
      const aborted = q.waitForItems(1, { signal: ac.signal });
      ac.abort();
      await t.rejects(aborted, { name: 'AbortError' });
      await t.rejects(q.waitForItems(1, { signal: AbortSignal.abort() }));
      const pending = t.rejects(q.waitForItems(1), { code: 'QUEUE_CLOSED' });
      await h.manager.close();
      await pending;
      await t.rejects(q.peek(0, { maxItems: 1, maxBytes: 1 }), {
        code: 'QUEUE_CLOSED',
      });
      await t.rejects(q.append(payload(1)), { code: 'QUEUE_CLOSED' });
    },
  );

  void t.test(
    'durable queue: sweep drops aged items and counts them',
    async (t) => {
      const { clock, o } = manual();
      const h = await withHarness(t, backend, o);
      const q = await h.manager.ensureQueue(qid('a'), spec({ maxAgeMs: 1000 }));
      await q.append(payload(1, 1));
      clock.advance(600);
      await q.append(payload(1, 2));
      await q.append(payload(1, 3));
      clock.advance(500);
      await h.manager.sweep();
      t.equal(q.length, 2);
      t.equal(q.drops, 1);
      t.equal(q.oldestEnqueuedAtMs, clock.now() - 500);
      clock.advance(1000);
      await h.manager.sweep();
      t.equal(q.length, 0);
      t.equal(q.drops, 3);
      t.equal(reopened(await h.restart(), 'a').drops, 3);
    },
  );

  void t.test(
    'durable queue: sweep expires idle subscription queues, never trunks',
    async (t) => {
      const { clock, o } = manual();
      const h = await withHarness(t, backend, o);
      const expired: [string, unknown][] = [];
      h.manager.onQueueExpired((id, record) => expired.push([id, record]));
      const idle = { idleExpiryMs: 1000 };
      const sub = await h.manager.ensureQueue(
        qid('sub'),
        spec({ ...idle, record: 'S' }),
      );
      const dl = await h.manager.ensureQueue(
        qid('dl'),
        spec({ ...idle, kind: 'downlink' }),
      );
      await h.manager.ensureQueue(
        qid('trunk'),
        spec({ ...idle, kind: 'trunk' }),
      );
      await h.manager.ensureQueue(qid('kept'), spec());
      const waited = await h.manager.ensureQueue(qid('waited'), spec(idle));
      await sub.append(payload(3));
      const waiting = waited.waitForItems(0);
      clock.advance(600);
      dl.touch();
      clock.advance(600);
      await h.manager.sweep();
      t.same(expired, [['sub', 'S']]);
      await t.rejects(sub.append(payload(1)), QueueNotFoundError);
      t.same(
        h.manager
          .list()
          .map((q) => q.id)
          .sort(),
        ['dl', 'kept', 'trunk', 'waited'],
      );
      clock.advance(1000);
      await h.manager.sweep();
      t.same(
        expired.map(([id]) => id),
        ['sub', 'dl'],
      );
      t.same(
        h.manager
          .list()
          .map((q) => q.id)
          .sort(),
        ['kept', 'trunk', 'waited'],
      );
      await waited.append(payload(1));
      await waiting;
      const m = await h.restart();
      t.same(
        m
          .list()
          .map((q) => q.id)
          .sort(),
        ['kept', 'trunk', 'waited'],
      );
    },
  );

  void t.test(
    'durable queue: time the router is down does not count as idle',
    async (t) => {
      const { clock, o } = manual();
      const h = await withHarness(t, backend, o);
      await h.manager.ensureQueue(qid('sub'), spec({ idleExpiryMs: 1000 }));
      clock.advance(400);
      const m = await h.restart(o, () => clock.advance(10_000));
      await m.sweep();
      t.ok(m.get(qid('sub')), 'survives a long outage');
      clock.advance(599);
      await m.sweep();
      t.ok(m.get(qid('sub')), 'idle 999 ms while running');
      clock.advance(1);
      await m.sweep();
      t.equal(m.get(qid('sub')), undefined, 'expires at 1000 ms idle');
    },
  );

  void t.test(
    'durable queue: large removals are reclaimed and leftovers cleared on open',
    async (t) => {
      const h = await withHarness(t, backend, { groupCommitWindowMs: 0 });
      const q = await h.manager.ensureQueue(qid('a'), spec());
      await h.manager.appendMany(
        Array.from({ length: 3000 }, (_, i) => ({
          queue: q.id,
          bytes: payload(4, i),
        })),
      );
      await q.ack(2500);
      t.equal(q.length, 500);
      const m = await h.restart();
      const kvKeys = async (): Promise<number> => {
        const keys: Uint8Array[] = [];
        const items = { gte: Uint8Array.of(4), lt: Uint8Array.of(5) };
        for await (const [key] of h.kv().scan(items)) keys.push(key);
        return keys.length;
      };
      t.equal(await kvKeys(), 500, 'only live items remain');
      const r = reopened(m, 'a');
      const items = await r.peek(0, { maxItems: 1000, maxBytes: 1 << 20 });
      t.equal(items.length, 500);
      t.equal(items[0]?.seq, 2501);
      await m.deleteQueue(qid('a'));
      t.equal(await kvKeys(), 0, 'deletion clears every item');
    },
  );

  void t.test(
    'durable queue: opening clears leftover items of removed ranges and queues',
    async (t) => {
      const h = await withHarness(t, backend);
      const q = await h.manager.ensureQueue(qid('a'), spec());
      for (let i = 1; i <= 4; i++) await q.append(payload(2, i));
      await q.ack(2);
      const leftovers = [
        itemKey('a', 1),
        itemKey('ghost', 7),
        itemKey('ghost', 8),
      ];
      await h.kv().write(
        leftovers.map((key) => ({
          type: 'put',
          key,
          value: newItemValue(payload(2)),
        })),
        { sync: true },
      );
      const m = await h.restart();
      for (const key of leftovers) t.equal(await h.kv().get(key), undefined);
      const r = reopened(m, 'a');
      t.same(
        (await r.peek(0, { maxItems: 9, maxBytes: 99 })).map((i) => i.seq),
        [3, 4],
      );
      t.same(
        m.list().map((x) => x.id),
        ['a'],
      );
    },
  );
}
