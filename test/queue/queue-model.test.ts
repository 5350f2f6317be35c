/**
 * Model-based property test: random sequences of appends (single,
 * multi-queue and concurrent), peeks, acks, limit changes, age sweeps and
 * restarts, compared after every step with a plain array per queue.
 */
import t from 'tap';
import fc from 'fast-check';
import { ManualClock } from '../../src/common/clock.ts';
import type { QueueManager } from '../../src/queue/manager.ts';
import type { QueueLimits } from '../../src/queue/types.ts';
import { BACKENDS, payload, qid, spec, type Harness } from './backends.ts';

interface ModelItem {
  seq: number;
  size: number;
  fill: number;
  atMs: number;
}

interface ModelQueue {
  limits: QueueLimits;
  items: ModelItem[];
  tail: number;
  drops: number;
}

interface Model {
  queues: ModelQueue[];
  nowMs: number;
  fill: number;
}

interface Real {
  h: Harness;
  clock: ManualClock;
}

const QUEUES = 2;
const name = (i: number): string => `q${i}`;
const sizeOf = (q: ModelQueue): number =>
  q.items.reduce((s, i) => s + i.size, 0);

function dropWhile(q: ModelQueue, over: () => boolean): void {
  while (q.items.length > 0 && over()) {
    q.items.shift();
    q.drops += 1;
  }
}

function modelAppend(m: Model, qi: number, size: number): void {
  const q = m.queues[qi] as ModelQueue;
  const { maxLength, maxBytes } = q.limits;
  dropWhile(
    q,
    () => q.items.length + 1 > maxLength || sizeOf(q) + size > maxBytes,
  );
  q.tail += 1;
  q.items.push({ seq: q.tail, size, fill: m.fill++ & 0xff, atMs: m.nowMs });
}

/** Checks the real queues' counters against the model. */
function agree(m: Model, manager: QueueManager): void {
  m.queues.forEach((q, i) => {
    const r = manager.get(qid(name(i)));
    const head = q.items[0];
    const want = {
      length: q.items.length,
      bytes: sizeOf(q),
      headSeq: head?.seq ?? 0,
      tailSeq: q.tail,
      drops: q.drops,
      oldest: head?.atMs,
    };
    const got = r && {
      length: r.length,
      bytes: r.bytes,
      headSeq: r.headSeq,
      tailSeq: r.tailSeq,
      drops: r.drops,
      oldest: r.oldestEnqueuedAtMs,
    };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(
        `${name(i)}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`,
      );
    }
  });
}

type Cmd = fc.AsyncCommand<Model, Real>;

function cmd(label: string, run: (m: Model, r: Real) => Promise<void>): Cmd {
  return {
    check: () => true,
    run: async (m, r) => {
      await run(m, r);
      agree(m, r.h.manager);
    },
    toString: () => label,
  };
}

/** One appendMany call: refused whole when any item is too large. */
async function appendCall(
  m: Model,
  r: Real,
  entries: { q: number; size: number }[],
): Promise<void> {
  const tooLarge = entries.some(
    (e) => e.size > (m.queues[e.q] as ModelQueue).limits.maxBytes,
  );
  const fills = entries.map((_, k) => (m.fill + k) & 0xff);
  const call = r.h.manager.appendMany(
    entries.map((e, k) => ({
      queue: qid(name(e.q)),
      bytes: payload(e.size, fills[k]),
    })),
  );
  if (tooLarge) {
    await call.then(
      () => Promise.reject(new Error('oversized append accepted')),
      (err: { code?: string }) => {
        if (err.code !== 'QUEUE_ITEM_TOO_LARGE') throw err;
      },
    );
    return;
  }
  const before = m.queues.map((q) => q.tail);
  for (const e of entries) modelAppend(m, e.q, e.size);
  const seqs = (await call).map((x) => x.seq);
  const expected = entries.map((e) => (before[e.q] = (before[e.q] ?? 0) + 1));
  if (JSON.stringify(seqs) !== JSON.stringify(expected)) {
    throw new Error(
      `seqs ${JSON.stringify(seqs)} want ${JSON.stringify(expected)}`,
    );
  }
}

const entryArb = fc.record({
  q: fc.integer({ min: 0, max: QUEUES - 1 }),
  size: fc.integer({ min: 0, max: 70 }),
});

const appendArb = fc
  .array(entryArb, { minLength: 1, maxLength: 4 })
  .map((entries) =>
    cmd(`append ${JSON.stringify(entries)}`, (m, r) =>
      appendCall(m, r, entries),
    ),
  );

const concurrentArb = fc
  .array(fc.array(entryArb, { minLength: 1, maxLength: 3 }), {
    minLength: 2,
    maxLength: 4,
  })
  .map((calls) =>
    cmd(`concurrent ${JSON.stringify(calls)}`, async (m, r) => {
      // All calls are in flight together; each updates the model before
      // its first await, so the model sees them in call order.
      await Promise.all(calls.map((entries) => appendCall(m, r, entries)));
    }),
  );

const peekArb = fc
  .record({
    q: fc.integer({ min: 0, max: QUEUES - 1 }),
    back: fc.integer({ min: -1, max: 8 }),
    maxItems: fc.integer({ min: 0, max: 6 }),
    maxBytes: fc.integer({ min: 0, max: 120 }),
  })
  .map((p) =>
    cmd(`peek ${JSON.stringify(p)}`, async (m, r) => {
      const q = m.queues[p.q] as ModelQueue;
      const after = Math.max(0, q.tail - p.back);
      const want: ModelItem[] = [];
      let total = 0;
      for (const item of q.items.filter((i) => i.seq > after)) {
        if (want.length >= p.maxItems) break;
        if (want.length > 0 && total + item.size > p.maxBytes) break;
        want.push(item);
        total += item.size;
      }
      const got = await r.h.manager
        .get(qid(name(p.q)))
        ?.peek(after, { maxItems: p.maxItems, maxBytes: p.maxBytes });
      const show = (xs: { seq: number; bytes: string; atMs: number }[]) =>
        JSON.stringify(xs);
      const gotView = (got ?? []).map((i) => ({
        seq: i.seq,
        bytes: Buffer.from(i.bytes).toString('hex'),
        atMs: i.enqueuedAtMs,
      }));
      const wantView = want.map((i) => ({
        seq: i.seq,
        bytes: Buffer.from(payload(i.size, i.fill)).toString('hex'),
        atMs: i.atMs,
      }));
      if (show(gotView) !== show(wantView)) {
        throw new Error(`peek got ${show(gotView)} want ${show(wantView)}`);
      }
    }),
  );

const ackArb = fc
  .record({
    q: fc.integer({ min: 0, max: QUEUES - 1 }),
    back: fc.integer({ min: -2, max: 8 }),
  })
  .map((a) =>
    cmd(`ack ${JSON.stringify(a)}`, async (m, r) => {
      const q = m.queues[a.q] as ModelQueue;
      const upto = q.tail - a.back;
      const ack = r.h.manager.get(qid(name(a.q)))?.ack(upto);
      if (upto > q.tail) {
        await ack?.then(
          () => Promise.reject(new Error('ack beyond tail accepted')),
          () => undefined,
        );
        return;
      }
      q.items = q.items.filter((i) => i.seq > upto);
      await ack;
    }),
  );

const limitsArb = fc.record({
  maxLength: fc.integer({ min: 1, max: 6 }),
  maxBytes: fc.integer({ min: 8, max: 64 }),
  maxAgeMs: fc.oneof(
    fc.constant(Number.POSITIVE_INFINITY),
    fc.integer({ min: 50, max: 400 }),
  ),
});

const limitsCmdArb = fc
  .record({ q: fc.integer({ min: 0, max: QUEUES - 1 }), limits: limitsArb })
  .map((c) =>
    cmd(`limits ${JSON.stringify(c)}`, async (m, r) => {
      const q = m.queues[c.q] as ModelQueue;
      q.limits = c.limits;
      dropWhile(
        q,
        () =>
          q.items.length > c.limits.maxLength || sizeOf(q) > c.limits.maxBytes,
      );
      await r.h.manager.ensureQueue(qid(name(c.q)), spec(c.limits));
    }),
  );

const sweepArb = fc.integer({ min: 0, max: 300 }).map((ms) =>
  cmd(`advance ${ms} and sweep`, async (m, r) => {
    m.nowMs += ms;
    r.clock.advance(ms);
    for (const q of m.queues) {
      const cutoff = m.nowMs - q.limits.maxAgeMs;
      dropWhile(q, () => (q.items[0] as ModelItem).atMs < cutoff);
    }
    await r.h.manager.sweep();
  }),
);

const restartArb = fc.constant(
  cmd('restart', async (_m, r) => {
    await r.h.restart();
  }),
);

const commandsArb = fc.commands(
  [
    appendArb,
    concurrentArb,
    peekArb,
    ackArb,
    limitsCmdArb,
    sweepArb,
    restartArb,
  ],
  { maxCommands: 40 },
);

for (const backend of BACKENDS) {
  void t.test(
    `queue model (${backend.name}): random operations match an array model`,
    async (t) => {
      await fc.assert(
        fc.asyncProperty(
          commandsArb,
          fc.array(limitsArb, { minLength: QUEUES, maxLength: QUEUES }),
          async (cmds, limits) => {
            const clock = new ManualClock();
            const h = await backend.open({ clock, groupCommitWindowMs: 0 });
            try {
              for (const [i, l] of limits.entries()) {
                await h.manager.ensureQueue(qid(name(i)), spec(l));
              }
              const model: Model = {
                queues: limits.map((l) => ({
                  limits: l,
                  items: [],
                  tail: 0,
                  drops: 0,
                })),
                nowMs: clock.now(),
                fill: 0,
              };
              await fc.asyncModelRun(
                () => ({ model, real: { h, clock } }),
                cmds,
              );
            } finally {
              await h.dispose();
            }
          },
        ),
        { numRuns: backend.name === 'memory' ? 150 : 25 },
      );
      t.pass('model and queues agree');
    },
  );
}
