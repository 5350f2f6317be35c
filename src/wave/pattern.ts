/**
 * Resource patterns and URIs, and their algebra.
 *
 * A URI is one or more segments separated by `/`. A segment is one or more
 * characters from `[A-Za-z0-9-_.,()~:@=]`; nothing else is allowed (no
 * empty segments, so no leading, trailing or doubled `/`). A pattern is a
 * URI whose segments may also be the wildcards `+` (exactly one segment)
 * or `*` (zero or more segments, anywhere), with at most one `*`.
 *
 * Since a URI has at least one segment, the pattern `*` matches every URI,
 * exactly like `+/*`. `covers` and `intersect` are exact over that set of
 * URIs, with an unbounded choice of segment values.
 */
import { InvalidPatternError, InvalidUriError } from './errors.ts';

/** Longest pattern or URI, characters. */
export const MAX_PATTERN_CHARS = 1024;
/** Most segments in a pattern or URI. */
export const MAX_SEGMENTS = 64;
/** What a literal segment may contain. */
export const SEGMENT_PATTERN = /^[A-Za-z0-9\-_.,()~:@=]+$/;

/** Why `p` is not valid, or undefined. */
function problemOf(p: string, wildcards: boolean): string | undefined {
  if (typeof p !== 'string' || p.length === 0) return 'it is empty';
  if (p.length > MAX_PATTERN_CHARS) {
    return `longer than ${MAX_PATTERN_CHARS} characters`;
  }
  const segs = p.split('/');
  if (segs.length > MAX_SEGMENTS) return `more than ${MAX_SEGMENTS} segments`;
  let stars = 0;
  for (const [i, s] of segs.entries()) {
    if (s === '') return `empty segment at position ${i}`;
    if (s === '+' || s === '*') {
      if (!wildcards) return `wildcard '${s}' at position ${i}`;
      if (s === '*' && ++stars > 1) return "more than one '*'";
    } else if (!SEGMENT_PATTERN.test(s)) {
      return (
        `segment ${i} ('${s.slice(0, 40)}') has a character outside ` +
        '[A-Za-z0-9-_.,()~:@=]'
      );
    }
  }
  return undefined;
}

/**
 * Checks a resource pattern.
 * @throws InvalidPatternError naming the pattern and the problem.
 */
export function validatePattern(p: string): void {
  const problem = problemOf(p, true);
  if (problem !== undefined) {
    throw new InvalidPatternError(`invalid pattern '${p}': ${problem}`, {
      pattern: p,
      reason: problem,
    });
  }
}

/**
 * Checks a URI (what is published: no wildcards).
 * @throws InvalidUriError naming the URI and the problem.
 */
export function validateUri(u: string): void {
  const problem = problemOf(u, false);
  if (problem !== undefined) {
    throw new InvalidUriError(`invalid URI '${u}': ${problem}`, {
      uri: u,
      reason: problem,
    });
  }
}

/** Whether `p` is a valid pattern (URIs are valid patterns too). */
export function isValidPattern(p: string): boolean {
  return problemOf(p, true) === undefined;
}

/** Whether `p` contains `+` or `*` segments. */
export function hasWildcards(p: string): boolean {
  return p.split('/').some((s) => s === '+' || s === '*');
}

/**
 * Whether the URI `uri` is matched by `pattern`. Both are assumed valid
 * (this is on the delivery path, so nothing is re-checked here).
 */
export function matches(pattern: string, uri: string): boolean {
  const p = pattern.split('/');
  const u = uri.split('/');
  const star = p.indexOf('*');
  if (star < 0) {
    return p.length === u.length && p.every((s, i) => s === '+' || s === u[i]);
  }
  const suffix = p.length - star - 1;
  if (u.length < star + suffix) return false;
  for (let i = 0; i < star; i++) {
    if (p[i] !== '+' && p[i] !== u[i]) return false;
  }
  const shift = u.length - p.length;
  for (let i = star + 1; i < p.length; i++) {
    if (p[i] !== '+' && p[i] !== u[i + shift]) return false;
  }
  return true;
}

/**
 * A parsed pattern: without `*`, `pre` holds every segment; with one, the
 * segments before and after it. Bare `*` is stored as `+/*`, the same set
 * of URIs, so that every starred form has at least one fixed segment.
 */
interface Shape {
  star: boolean;
  pre: string[];
  suf: string[];
}

function shape(p: string): Shape {
  validatePattern(p);
  const segs = p.split('/');
  const i = segs.indexOf('*');
  if (i < 0) return { star: false, pre: segs, suf: [] };
  if (segs.length === 1) return { star: true, pre: ['+'], suf: [] };
  return { star: true, pre: segs.slice(0, i), suf: segs.slice(i + 1) };
}

function format(s: Shape): string {
  if (!s.star) return s.pre.join('/');
  if (s.pre.length + s.suf.length === 1 && [...s.pre, ...s.suf][0] === '+') {
    return '*';
  }
  return [...s.pre, '*', ...s.suf].join('/');
}

/** Whether segment `x` (of a pattern) covers segment `y`. */
function segCovers(x: string | undefined, y: string | undefined): boolean {
  return x === '+' || x === y;
}

/**
 * Whether the starred `a` covers `b` at fixed positions: `a`'s prefix
 * against `b`'s prefix, where `b` has a segment there, else `a` must have
 * `+` (the position lies inside `b`'s own `*` for long enough URIs).
 */
function edgesCover(a: string[], b: string[]): boolean {
  return a.every((s, i) => (i < b.length ? segCovers(s, b[i]) : s === '+'));
}

/**
 * Whether every URI matched by `b` is matched by `a`.
 * @throws InvalidPatternError when either is not a valid pattern.
 */
export function covers(a: string, b: string): boolean {
  const A = shape(a);
  const B = shape(b);
  if (!A.star) {
    return (
      !B.star &&
      A.pre.length === B.pre.length &&
      A.pre.every((s, i) => segCovers(s, B.pre[i]))
    );
  }
  if (A.pre.length + A.suf.length > B.pre.length + B.suf.length) {
    return false;
  }
  if (!B.star) {
    const tail = B.pre.slice(B.pre.length - A.suf.length);
    return (
      A.pre.every((s, i) => segCovers(s, B.pre[i])) &&
      A.suf.every((s, i) => segCovers(s, tail[i]))
    );
  }
  const rev = (x: string[]): string[] => [...x].reverse();
  return edgesCover(A.pre, B.pre) && edgesCover(rev(A.suf), rev(B.suf));
}

/** The segments `s` matches at length `n` (with `+` for free ones). */
function expand(s: Shape, n: number): string[] | undefined {
  if (!s.star) return s.pre.length === n ? s.pre : undefined;
  const free = n - s.pre.length - s.suf.length;
  if (free < 0) return undefined;
  return [...s.pre, ...new Array<string>(free).fill('+'), ...s.suf];
}

function meetSeg(x: string, y: string): string | undefined {
  if (x === '+') return y;
  if (y === '+' || x === y) return x;
  return undefined;
}

/** Position-wise meet of equal-length segment lists; undefined if empty. */
function meet(xs: string[], ys: string[]): string[] | undefined {
  const out: string[] = [];
  const n = Math.max(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const m = meetSeg(xs[i] ?? '+', ys[i] ?? '+');
    if (m === undefined) return undefined;
    out.push(m);
  }
  return out;
}

function intersectShapes(A: Shape, B: Shape): Shape[] {
  if (!A.star || !B.star) {
    const n = A.star ? B.pre.length : A.pre.length;
    const a = expand(A, n);
    const b = expand(B, n);
    const m = a && b && a.length === b.length ? meet(a, b) : undefined;
    return m ? [{ star: false, pre: m, suf: [] }] : [];
  }
  // URIs long enough that the two fixed ends cannot overlap form one
  // starred pattern; each shorter length is one fixed-length pattern.
  const p = Math.max(A.pre.length, B.pre.length);
  const s = Math.max(A.suf.length, B.suf.length);
  const lo = Math.max(A.pre.length + A.suf.length, B.pre.length + B.suf.length);
  const out: Shape[] = [];
  for (let n = lo; n < p + s; n++) {
    const m = meet(expand(A, n) ?? [], expand(B, n) ?? []);
    if (m) out.push({ star: false, pre: m, suf: [] });
  }
  const pre = meet(A.pre, B.pre);
  const rev = (x: string[]): string[] => [...x].reverse();
  const suf = meet(rev(A.suf), rev(B.suf));
  if (pre && suf) out.push({ star: true, pre, suf: rev(suf) });
  return out;
}

/**
 * Patterns whose union is exactly the set of URIs matched by both `a` and
 * `b`; [] when they are disjoint. No result covers another.
 * @throws InvalidPatternError when either is not a valid pattern.
 */
export function intersect(a: string, b: string): string[] {
  if (covers(a, b)) return [b];
  if (covers(b, a)) return [a];
  const found = [...new Set(intersectShapes(shape(a), shape(b)).map(format))];
  // Drop a result another one covers; of two equal ones keep the first.
  return found.filter(
    (p, i) =>
      !found.some(
        (q, j) => j !== i && covers(q, p) && (j < i || !covers(p, q)),
      ),
  );
}
