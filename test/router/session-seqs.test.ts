import t from 'tap';
import fc from 'fast-check';
import { SessionSeqs } from '../../src/router/session-seqs.ts';

t.test('session seqs: in order each number is new once', async (t) => {
  const s = new SessionSeqs();
  t.ok(s.firstTime('a', 1));
  t.ok(s.firstTime('a', 2));
  t.notOk(s.firstTime('a', 2), 'a resend is not new');
  t.notOk(s.firstTime('a', 1));
  t.ok(s.firstTime('b', 1), 'sessions are apart');
});

t.test(
  'session seqs: a batch that arrives after later ones is still taken, once',
  async (t) => {
    const s = new SessionSeqs();
    for (const n of [1, 2, 3]) t.ok(s.firstTime('a', n));
    // 4..6 were refused and are sent again after 7..9 went through.
    for (const n of [7, 8, 9]) t.ok(s.firstTime('a', n));
    for (const n of [5, 4, 6]) t.ok(s.firstTime('a', n), `late ${n} taken`);
    for (const n of [4, 5, 6, 7]) t.notOk(s.firstTime('a', n), `${n} again`);
  },
);

t.test(
  'session seqs: a session first seen mid-way takes its earlier numbers',
  async (t) => {
    const s = new SessionSeqs();
    t.ok(s.firstTime('a', 10));
    t.ok(s.firstTime('a', 3));
    t.notOk(s.firstTime('a', 3));
    t.notOk(s.firstTime('a', 10));
  },
);

t.test('session seqs: too many gaps forget the oldest', async (t) => {
  const s = new SessionSeqs({ maxGaps: 2 });
  for (const n of [2, 4, 6, 8]) s.firstTime('a', n);
  // Gaps were 1, 3, 5, 7: only 5 and 7 are kept.
  t.notOk(s.firstTime('a', 1), 'forgotten gap: taken for a resend');
  t.notOk(s.firstTime('a', 3));
  t.ok(s.firstTime('a', 5));
  t.ok(s.firstTime('a', 7));
});

t.test(
  'session seqs: any arrival order takes every number exactly once',
  async (t) => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 200 }),
        (arrivals) => {
          const s = new SessionSeqs({ maxGaps: 1000 });
          const seen = new Set<number>();
          for (const n of arrivals) {
            if (s.firstTime('x', n) === seen.has(n)) return false;
            seen.add(n);
          }
          return true;
        },
      ),
    );
    t.pass('model agrees');
  },
);

t.test(
  'session seqs: a released number is taken once more, in any order',
  async (t) => {
    const s = new SessionSeqs();
    for (const n of [1, 2, 3, 4]) s.firstTime('a', n);
    s.release('a', 4);
    s.release('a', 2);
    t.ok(s.firstTime('a', 2), 'a failed append in the middle');
    t.ok(s.firstTime('a', 4), 'and at the top');
    t.notOk(s.firstTime('a', 2));
    t.notOk(s.firstTime('a', 4));
    t.notOk(s.firstTime('a', 3), 'what was stored stays a duplicate');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            n: fc.integer({ min: 1, max: 40 }),
            release: fc.boolean(),
          }),
          { maxLength: 200 },
        ),
        (ops) => {
          const s = new SessionSeqs({ maxGaps: 1000 });
          const seen = new Set<number>();
          for (const { n, release } of ops) {
            if (release) {
              s.release('x', n);
              seen.delete(n);
            } else {
              if (s.firstTime('x', n) === seen.has(n)) return false;
              seen.add(n);
            }
          }
          return true;
        },
      ),
    );
  },
);

t.test(
  'session seqs: a batch released from its top down leaves no gap behind',
  async (t) => {
    const s = new SessionSeqs();
    for (let n = 1; n <= 10; n++) s.firstTime('a', n);
    for (let n = 10; n >= 6; n--) s.release('a', n);
    t.same(s.state('a'), { highest: 5, gaps: [] });
    s.firstTime('a', 12);
    for (const n of [8, 9, 7]) s.release('a', n);
    t.same(
      s.state('a'),
      { highest: 12, gaps: [{ from: 6, to: 11 }] },
      'released numbers merge with the gaps beside them',
    );
    s.release('a', 12);
    t.same(s.state('a'), { highest: 5, gaps: [] }, 'and the top one too');
  },
);

t.test(
  'session seqs: a pinned session is not forgotten when memory is full',
  async (t) => {
    const s = new SessionSeqs({ maxSessions: 2 });
    s.firstTime('a', 1);
    s.pin('a');
    s.firstTime('b', 1);
    s.firstTime('c', 1);
    t.ok(s.has('a'), 'pinned: kept though least recently used');
    t.notOk(s.has('b'), 'the least recently used unpinned one went');
    s.unpin('a');
    s.firstTime('d', 1);
    t.notOk(s.has('a'), 'unpinned, it can go');
  },
);
