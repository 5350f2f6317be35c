import t from 'tap';
import fc from 'fast-check';
import {
  covers,
  intersect,
  matches,
  validatePattern,
  validateUri,
} from '../../src/wave/pattern.ts';
import { InvalidPatternError, InvalidUriError } from '../../src/wave/errors.ts';

// Reference matcher written independently of pattern.ts: plain recursion
// over segment lists.
function oracle(p: string[], u: string[], i = 0, j = 0): boolean {
  const head = p[i];
  if (head === undefined) return j === u.length;
  if (head === '*') {
    return oracle(p, u, i + 1, j) || (j < u.length && oracle(p, u, i, j + 1));
  }
  if (j === u.length) return false;
  return (head === '+' || head === u[j]) && oracle(p, u, i + 1, j + 1);
}

/** Every list of 1..maxLen segments over `letters`. */
function words(letters: string[], maxLen: number): string[][] {
  const out: string[][] = [];
  let level: string[][] = [[]];
  for (let n = 1; n <= maxLen; n++) {
    level = level.flatMap((w) => letters.map((l) => [...w, l]));
    out.push(...level);
  }
  return out;
}

/** Every valid pattern of 1..maxLen segments over `segs`. */
function patterns(segs: string[], maxLen: number): string[] {
  return words(segs, maxLen)
    .filter((w) => w.filter((s) => s === '*').length <= 1)
    .map((w) => w.join('/'));
}

// Longer than any counterexample or fixed intersection part that patterns
// of four segments can need (six), so bounded sets decide exactly.
const WORDS = words(['a', 'b', 'c'], 7);
const SMALL = patterns(['a', 'b', '+', '*'], 4);

/** Which of WORDS a pattern matches, per the oracle, as a bitset. */
function matchSet(p: string): Uint32Array {
  const bits = new Uint32Array(Math.ceil(WORDS.length / 32));
  const segs = p.split('/');
  WORDS.forEach((w, i) => {
    if (oracle(segs, w)) bits[i >>> 5]! |= 1 << (i & 31);
  });
  return bits;
}

const SETS = new Map(SMALL.map((p) => [p, matchSet(p)]));
function setOf(p: string): Uint32Array {
  let s = SETS.get(p);
  if (!s) {
    s = matchSet(p);
    SETS.set(p, s);
  }
  return s;
}

function subset(b: Uint32Array, a: Uint32Array): boolean {
  return b.every((v, i) => (v & ~a[i]!) === 0);
}

void t.test('pattern: validation accepts the documented forms', (t) => {
  for (const p of ['a', 'a/b', '+', '*', 'a/*/b', '+/+/*', 'x-_.,()~:@=9']) {
    t.doesNotThrow(() => validatePattern(p), p);
  }
  validateUri('sensors/temp/room-1');
  t.pass();
  t.end();
});

void t.test('pattern: validation names the problem', (t) => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['/a', /empty segment at position 0/],
    ['a/', /empty segment at position 1/],
    ['a//b', /empty segment/],
    ['a/*/b/*', /more than one '\*'/],
    ['a/b c', /character outside/],
    ['a+/b', /character outside/],
    ['a/**', /character outside/],
    ['x'.repeat(1025), /longer than 1024/],
    [new Array(65).fill('a').join('/'), /more than 64 segments/],
  ];
  for (const [p, re] of cases) {
    t.throws(() => validatePattern(p), InvalidPatternError, p);
    t.throws(() => validatePattern(p), { message: re }, p);
  }
  t.throws(() => validateUri('a/+'), InvalidUriError);
  t.throws(() => validateUri('a/*'), { message: /wildcard '\*'/ });
  t.end();
});

void t.test('pattern: examples of coverage', (t) => {
  t.ok(covers('*', 'a/b'));
  t.ok(covers('a/*', 'a/*'));
  t.ok(covers('a/*', 'a'), 'star matches zero segments');
  t.notOk(covers('a/b', 'a/*'), 'a grant on a/b does not cover a/*');
  t.notOk(covers('a/+', 'a/*'));
  t.ok(covers('+/*', '*'), 'URIs have at least one segment');
  t.ok(covers('*/b', 'a/*/b'));
  t.notOk(covers('a/*/b', '*/b'));
  t.ok(covers('+/+/*/+', '*/+/+/+') && covers('*/+/+/+', '+/+/*/+'));
  t.same(intersect('a/*', '*/b'), ['a/*/b']);
  t.same(intersect('a/+/*', '*/b'), ['a/b', 'a/+/*/b']);
  t.same(intersect('a/+', 'b/+'), []);
  t.same(intersect('*', 'a/+'), ['a/+']);
  t.end();
});

void t.test('pattern: every small pattern pair agrees with the oracle', (t) => {
  let checked = 0;
  for (const p of SMALL) {
    for (const [i, w] of WORDS.entries()) {
      if (i % 7 !== 0) continue; // a sample suffices here; sets cover all
      if (matches(p, w.join('/')) !== oracle(p.split('/'), w)) {
        t.fail(`matches(${p}, ${w.join('/')})`);
      }
    }
    for (const q of SMALL) {
      const want = subset(setOf(q), setOf(p));
      if (covers(p, q) !== want) t.fail(`covers(${p}, ${q}) != ${want}`);
      const inter = setOf(p).map((v, k) => v & setOf(q)[k]!);
      const union = new Uint32Array(inter.length);
      for (const r of intersect(p, q)) {
        validatePattern(r);
        setOf(r).forEach((v, k) => (union[k]! |= v));
      }
      if (!union.every((v, k) => v === inter[k])) {
        t.fail(`intersect(${p}, ${q}) = ${intersect(p, q).join(' | ')}`);
      }
      checked++;
    }
  }
  t.equal(checked, SMALL.length ** 2);
  t.ok(SMALL.length > 250);
  t.end();
});

const segArb = fc.constantFrom('a', 'b', 'c', '+', '+', '*');
const patternArb = fc
  .array(segArb, { minLength: 1, maxLength: 7 })
  .filter((s) => s.filter((x) => x === '*').length <= 1)
  .map((s) => s.join('/'));

/** A random URI matched by `p` (wildcards filled from a wider set). */
function instanceArb(p: string): fc.Arbitrary<string> {
  const lit = fc.constantFrom('a', 'b', 'c', 'd');
  const parts = p.split('/').map((s) => {
    if (s === '+') return lit.map((x) => [x]);
    if (s === '*') return fc.array(lit, { maxLength: 4 });
    return fc.constant([s]);
  });
  return fc
    .tuple(...parts)
    .map((xs) => xs.flat())
    .filter((xs) => xs.length > 0)
    .map((xs) => xs.join('/'));
}

void t.test('pattern: covers is sound on instances of longer patterns', (t) => {
  const arb = fc
    .tuple(patternArb, patternArb)
    .chain(([a, b]) =>
      fc.tuple(fc.constant(a), fc.constant(b), instanceArb(b)),
    );
  fc.assert(
    fc.property(arb, ([a, b, u]) => {
      return matches(b, u) && (!covers(a, b) || matches(a, u));
    }),
    { numRuns: 3000 },
  );
  t.pass();
  t.end();
});

void t.test(
  'pattern: intersect agrees with matches on longer patterns',
  (t) => {
    const arb = fc
      .tuple(patternArb, patternArb)
      .chain(([a, b]) =>
        fc.tuple(fc.constant(a), fc.constant(b), instanceArb(a)),
      );
    fc.assert(
      fc.property(arb, ([a, b, u]) => {
        const rs = intersect(a, b);
        const inBoth = matches(b, u);
        const inUnion = rs.some((r) => matches(r, u));
        const eachCovered = rs.every((r) => covers(a, r) && covers(b, r));
        return inBoth === inUnion && eachCovered;
      }),
      { numRuns: 3000 },
    );
    t.pass();
    t.end();
  },
);

/**
 * Canonical form of a pattern's set of URIs: `+` segments next to the
 * `*` can move across it, and bare `*` is `+/*` (URIs are never empty).
 */
function canonical(p: string): string {
  const segs = p === '*' ? ['+', '*'] : p.split('/');
  const star = segs.indexOf('*');
  if (star < 0) return p;
  let lo = star;
  while (segs[lo - 1] === '+') lo--;
  let hi = star + 1;
  while (segs[hi] === '+') hi++;
  const pluses = new Array<string>(hi - lo - 1).fill('+');
  return [...segs.slice(0, lo), ...pluses, '*', ...segs.slice(hi)].join('/');
}

void t.test('pattern: covers is a partial order up to equivalence', (t) => {
  fc.assert(
    fc.property(patternArb, patternArb, patternArb, (a, b, c) => {
      if (!covers(a, a)) return false;
      if (covers(a, b) && covers(b, c) && !covers(a, c)) return false;
      const mutual = covers(a, b) && covers(b, a);
      return mutual === (canonical(a) === canonical(b));
    }),
    { numRuns: 3000 },
  );
  t.pass();
  t.end();
});
