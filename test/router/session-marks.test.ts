import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/common/clock.ts';
import type { QueueId } from '../../src/common/ids.ts';
import { silentLogger } from '../../src/common/logger.ts';
import {
  QueueManager,
  QueueRecordError,
  openDataStore,
} from '../../src/queue/index.ts';
import { createRouterMetrics } from '../../src/router/metrics.ts';
import { SessionSeqs } from '../../src/router/session-seqs.ts';
import {
  PublisherSessions,
  decodeSessionMark,
  encodeSessionMark,
  sessionMarkKey,
} from '../../src/router/session-marks.ts';
import { encode } from '../../src/wire/index.ts';

const DAY_MS = 24 * 3600 * 1000;
const Q = 'q' as QueueId;

t.test(
  'session marks: a session state round-trips through its encoding, gaps included',
  async (t) => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 150 }),
        fc.array(fc.integer({ min: 1, max: 320 }), { maxLength: 100 }),
        fc.nat(),
        (before, after, lastUsedMs) => {
          const a = new SessionSeqs();
          for (const n of before) a.firstTime('s', n);
          const state = a.state('s');
          if (!state) return before.length === 0;
          const mark = decodeSessionMark(
            encodeSessionMark({ state, lastUsedMs }),
          );
          if (mark.lastUsedMs !== lastUsedMs) return false;
          if (JSON.stringify(mark.state) !== JSON.stringify(state)) {
            return false;
          }
          const b = new SessionSeqs();
          b.install('s', mark.state);
          // The copy read back answers every later offer as the original.
          return after.every(
            (n) => a.firstTime('s', n) === b.firstTime('s', n),
          );
        },
      ),
    );
    const s = new SessionSeqs();
    for (const n of [1, 2, 5, 9]) s.firstTime('x', n);
    const state = s.state('x')!;
    t.same(state.gaps, [
      { from: 3, to: 4 },
      { from: 6, to: 8 },
    ]);
    t.same(decodeSessionMark(encodeSessionMark({ state, lastUsedMs: 7 })), {
      state: { highest: 9, gaps: state.gaps },
      lastUsedMs: 7,
    });
  },
);

t.test(
  'session marks: an unreadable mark is refused, naming why',
  async (t) => {
    for (const [value, reason] of [
      [Uint8Array.of(0xff), /malformed/i],
      [encode({ highest: 1 }), /3-item array/],
      [encode([1.5, 0, []]), /integers/],
      [encode([9, 0, [5, 6, 2, 3]]), /ascending/],
      [encode([9, 0, [5, 9]]), /highest/],
    ] as const) {
      t.throws(() => decodeSessionMark(value), reason);
    }
    t.throws(
      () => decodeSessionMark(encode([1, 0, [1]])),
      QueueRecordError,
      'a store record error',
    );
  },
);

/** Messages as (session, seq) pairs. */
type Offer = [string, number];

/** A queue store on disk with publisher sessions, used as a router does. */
interface Node {
  queues: QueueManager;
  sessions: PublisherSessions;
  registry: Registry;
  /** Routes `offers` into `queue`; resolves with the seqs taken. */
  route(offers: Offer[], queue?: QueueId): Promise<string[]>;
  /** Items stored in queue q, as `session:seq`. */
  stored(): Promise<string[]>;
  close(): Promise<void>;
}

async function openNode(
  t: Test,
  dir: string,
  o: {
    clock?: ManualClock;
    maxSessions?: number;
    windowMs?: number;
    retentionMs?: number;
  } = {},
): Promise<Node> {
  const store = await openDataStore(dir);
  const queues = await QueueManager.open({
    store,
    groupCommitWindowMs: o.windowMs ?? 2,
  });
  for (const id of [Q, 'other' as QueueId]) {
    await queues.ensureQueue(id, {
      kind: 'trunk',
      limits: { maxLength: 1000, maxBytes: 1e6, maxAgeMs: Infinity },
      idleExpiryMs: undefined,
      record: null,
    });
  }
  const registry = new Registry();
  const sessions = new PublisherSessions({
    queues,
    clock: o.clock ?? new ManualClock(),
    logger: silentLogger(),
    metrics: createRouterMetrics(registry),
    retentionMs: o.retentionMs ?? 7 * DAY_MS,
    seqs: { maxSessions: o.maxSessions ?? 100 },
  });
  let closed = false;
  const node: Node = {
    queues,
    sessions,
    registry,
    route: (offers, queue = Q) =>
      sessions.inTurn(
        offers.map(([s]) => s),
        () => {
          const taken = offers
            .filter(([session, seq]) => sessions.firstTime(session, seq))
            .map(([session, seq]) => ({ session, seq }));
          const write = sessions.marksFor(taken);
          const entries = taken.map((m) => ({
            queue,
            bytes: Buffer.from(`${m.session}:${m.seq}`),
          }));
          return queues.appendMany(entries, { marks: write.marks }).then(
            () => {
              write.settled();
              return taken.map((m) => `${m.session}:${m.seq}`);
            },
            (err: unknown) => {
              write.settled(err);
              throw err;
            },
          );
        },
      ),
    async stored() {
      const items = await queues
        .get(Q)!
        .peek(0, { maxItems: 1000, maxBytes: 1e6 });
      return items.map((i) => Buffer.from(i.bytes).toString());
    },
    async close() {
      if (closed) return;
      closed = true;
      await sessions.stop();
      await queues.close();
      await store.close();
    },
  };
  t.teardown(() => node.close());
  return node;
}

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wavemq-sessions-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const seqs = (session: string, from: number, to: number): Offer[] =>
  Array.from({ length: to - from + 1 }, (_, i) => [session, from + i]);

async function gauge(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  const v = (await m?.get())?.values[0]?.value;
  return v ?? Number.NaN;
}

t.test(
  'publisher sessions: after a restart a resend is dropped and a late message in a gap is taken',
  async (t) => {
    const dir = await tempDir(t);
    let node = await openNode(t, dir);
    t.equal((await node.route(seqs('S', 1, 10))).length, 10);
    t.same(await node.route([...seqs('G', 1, 3), ...seqs('G', 6, 8)]), [
      'G:1',
      'G:2',
      'G:3',
      'G:6',
      'G:7',
      'G:8',
    ]);
    await node.close();

    node = await openNode(t, dir);
    t.notOk(node.sessions.seqs.has('S'), 'nothing held in memory yet');
    t.same(await node.route(seqs('S', 5, 12)), ['S:11', 'S:12']);
    t.same(await node.route([...seqs('G', 4, 5), ['G', 7]]), ['G:4', 'G:5']);
    t.equal(
      await gauge(node.registry, 'wavemq_router_publish_duplicates_total'),
      7,
      'S 5..10 and G 7 counted as duplicates',
    );
    const stored = await node.stored();
    t.equal(new Set(stored).size, stored.length, 'nothing stored twice');
    t.equal(stored.length, 12 + 8);
  },
);

t.test(
  'publisher sessions: a session that left memory is read back before its next batch',
  async (t) => {
    const dir = await tempDir(t);
    const node = await openNode(t, dir, { maxSessions: 2 });
    await node.route(seqs('A', 1, 5));
    await node.route(seqs('B', 1, 5));
    await node.route(seqs('C', 1, 5));
    t.notOk(node.sessions.seqs.has('A'), 'A was forgotten in memory');
    t.same(await node.route(seqs('A', 4, 6)), ['A:6']);
    t.ok(node.sessions.seqs.has('A'));
  },
);

t.test(
  'publisher sessions: batches of a session being read back are decided in call order',
  async (t) => {
    const dir = await tempDir(t);
    let node = await openNode(t, dir);
    await node.route(seqs('S', 1, 2));
    await node.close();
    node = await openNode(t, dir);
    // Both start before the mark is read; neither may take what the
    // other took.
    const first = node.route(seqs('S', 1, 5));
    const second = node.route(seqs('S', 3, 8));
    const both = node.route([...seqs('S', 8, 9), ...seqs('T', 1, 1)]);
    t.same(await first, ['S:3', 'S:4', 'S:5']);
    t.same(await second, ['S:6', 'S:7', 'S:8']);
    t.same(await both, ['S:9', 'T:1']);
    t.same(await node.stored(), [
      ...['S:1', 'S:2', 'S:3', 'S:4', 'S:5', 'S:6', 'S:7', 'S:8', 'S:9'],
      'T:1',
    ]);
  },
);

t.test(
  'publisher sessions: a failed batch stores neither messages nor mark, and its resend is taken',
  async (t) => {
    const dir = await tempDir(t);
    let node = await openNode(t, dir);
    await node.route(seqs('S', 1, 3));
    await t.rejects(
      node.route(seqs('S', 4, 6), 'missing' as QueueId),
      { code: 'QUEUE_NOT_FOUND' },
      'the append fails',
    );
    t.same(node.sessions.seqs.state('S'), { highest: 3, gaps: [] });
    await node.close();
    node = await openNode(t, dir);
    t.same(await node.route(seqs('S', 2, 6)), ['S:4', 'S:5', 'S:6']);
  },
);

t.test(
  'publisher sessions: a batch that fails after a later one was written is corrected on disk',
  async (t) => {
    const dir = await tempDir(t);
    let node = await openNode(t, dir, { windowMs: 50 });
    await node.route(seqs('S', 1, 1));
    // The deletion is in the group commit before the next append, which
    // was checked against the queue as it still was: that append alone
    // is refused when the batch is built, while the later one commits
    // with a mark that counts 2..4 as routed.
    const deletion = node.queues.deleteQueue('other' as QueueId);
    await new Promise((resolve) => setImmediate(resolve));
    const failed = node.route(seqs('S', 2, 4), 'other' as QueueId);
    const later = node.route(seqs('S', 5, 6));
    await t.rejects(failed, { code: 'QUEUE_NOT_FOUND' });
    t.same(await later, ['S:5', 'S:6']);
    await deletion;
    await node.close(); // writes what is pending, the correction included
    node = await openNode(t, dir);
    t.same(
      await node.route(seqs('S', 1, 6)),
      ['S:2', 'S:3', 'S:4'],
      'the numbers never stored are taken after a restart',
    );
  },
);

t.test(
  'publisher sessions: marks unused for longer than the retention are swept, and counted',
  async (t) => {
    const dir = await tempDir(t);
    const clock = new ManualClock();
    let node = await openNode(t, dir, { clock, windowMs: 50 });
    await node.route(seqs('old', 1, 3));
    await node.route(seqs('busy', 1, 3));
    clock.advance(6 * DAY_MS);
    await node.route(seqs('recent', 1, 3));
    clock.advance(DAY_MS);
    t.equal(await node.sessions.sweep(), 0, 'nothing older than 7 days');
    t.equal(await gauge(node.registry, 'wavemq_router_publisher_sessions'), 3);
    clock.advance(1);
    // 'busy' is used in the same batch as the sweep's deletion: judged
    // by its new mark, it stays.
    const using = node.route(seqs('busy', 4, 4));
    const deleted = await node.sessions.sweep();
    await using;
    const held = async (s: string): Promise<boolean> =>
      (await node.queues.readMark(sessionMarkKey(s))) !== undefined;
    t.equal(deleted, 1);
    t.notOk(await held('old'), 'unused for over 7 days: swept');
    t.ok(await held('busy'), 'used just now: kept');
    t.ok(await held('recent'), 'unused for a day: kept');
    t.equal(await gauge(node.registry, 'wavemq_router_publisher_sessions'), 2);
    await node.close();

    node = await openNode(t, dir, { clock });
    t.same(
      await node.route(seqs('old', 1, 1)),
      ['old:1'],
      'a swept session starts afresh',
    );
    t.same(await node.route(seqs('recent', 1, 1)), [], 'a kept one does not');
    t.equal(await node.sessions.sweep(), 0);
    t.equal(await gauge(node.registry, 'wavemq_router_publisher_sessions'), 3);
  },
);
