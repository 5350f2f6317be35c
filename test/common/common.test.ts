import t from 'tap';
import { Backoff, sleep } from '../../src/common/backoff.ts';
import { parseDuration, DurationError } from '../../src/common/duration.ts';
import { LruMap } from '../../src/common/lru.ts';

t.test('duration: units and sums convert to milliseconds', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('90s'), 90_000);
  t.equal(parseDuration('1d12h'), 129_600_000);
  t.equal(parseDuration('30'), 30_000);
  t.equal(parseDuration('1y'), 31_536_000_000);
});

t.test('duration: garbage is refused with the input named', async (t) => {
  t.throws(() => parseDuration('ten days'), DurationError);
  t.throws(() => parseDuration('5x'), /'5x' is not a duration/);
  t.throws(() => parseDuration(''), DurationError);
});

t.test(
  'backoff: grows, stays jittered within [base/2, base], caps, resets',
  async (t) => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999 });
    const lo = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const seq = Array.from({ length: 6 }, () => b.next());
    const low = Array.from({ length: 6 }, () => lo.next());
    t.ok(seq[1]! > seq[0]!, 'grows');
    t.ok(
      seq.every((d) => d <= 1000),
      'never above the cap',
    );
    t.same(low, [50, 100, 200, 400, 500, 500], 'lower bound is half the base');
    b.reset();
    t.ok(b.next() < 101, 'starts over after a reset');
    t.equal(b.attempts, 1);
  },
);

t.test('sleep: an abort ends the wait early with the reason', async (t) => {
  const ctl = new AbortController();
  const p = sleep(60_000, ctl.signal);
  ctl.abort(new Error('stop'));
  await t.rejects(p, /stop/);
});

t.test('lru map: evicts the least recently used entry', async (t) => {
  const m = new LruMap<string, number>(2);
  m.set('a', 1);
  m.set('b', 2);
  m.get('a');
  m.set('c', 3);
  t.equal(m.get('b'), undefined, 'b was least recently used');
  t.equal(m.get('a'), 1);
  t.equal(m.get('c'), 3);
  t.equal(m.size, 2);
});
