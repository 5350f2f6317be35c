/**
 * Which sequence numbers of each publisher session a router has routed,
 * so that a resent message is dropped and a late one is not. Publishers
 * number their messages 1, 2, 3, ... per session. Messages usually arrive
 * in order, but a batch that was refused and sent again (or lost on one
 * link and resent on the next) can arrive after later ones: its numbers
 * are then below the highest seen and must still be taken once. So each
 * session keeps its highest number and the ranges below it not yet seen.
 *
 * This is the memory side only; session-marks.ts keeps each session's
 * state on disk and loads it back for a session not held here.
 */

/** One range of numbers not yet seen, inclusive. */
export interface Gap {
  from: number;
  to: number;
}

/** What is known of one session: numbers above `highest` are unseen. */
export interface SessionState {
  highest: number;
  /** Ascending, disjoint, all below `highest`. */
  gaps: Gap[];
}

interface Session extends SessionState {
  /** Writes of this session's state in flight; pinned while above 0. */
  pins: number;
}

/** Options of {@link SessionSeqs}. */
export interface SessionSeqsOptions {
  /**
   * Sessions remembered; the least recently used one that is not pinned
   * is forgotten. Pinned sessions may hold it over the bound for as long
   * as their writes are in flight.
   */
  maxSessions?: number;
  /**
   * Gaps kept per session. Overflow policy: the oldest (lowest) gap is
   * forgotten, and a message from it would then be taken for a resend.
   */
  maxGaps?: number;
}

/** Per-session record of routed sequence numbers; see the module. */
export class SessionSeqs {
  /** In use order, least recent first. */
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  readonly maxGaps: number;

  /** Defaults: 65 536 sessions, 64 gaps each. */
  constructor(o: SessionSeqsOptions = {}) {
    this.maxSessions = o.maxSessions ?? 65_536;
    this.maxGaps = o.maxGaps ?? 64;
  }

  /** Sessions held in memory. */
  get size(): number {
    return this.sessions.size;
  }

  /** True when `session` is held in memory. */
  has(session: string): boolean {
    return this.sessions.has(session);
  }

  /**
   * True the first time `seq` of `session` is offered (and records it),
   * false for a number already routed. A session first seen at seq n
   * counts 1 to n - 1 as not yet seen.
   */
  firstTime(session: string, seq: number): boolean {
    const s = this.sessions.get(session);
    if (!s) {
      const gaps = seq > 1 ? [{ from: 1, to: seq - 1 }] : [];
      this.add(session, { highest: seq, gaps, pins: 0 });
      return true;
    }
    this.sessions.delete(session);
    this.sessions.set(session, s);
    if (seq > s.highest) {
      if (seq > s.highest + 1) {
        s.gaps.push({ from: s.highest + 1, to: seq - 1 });
        this.bound(s);
      }
      s.highest = seq;
      return true;
    }
    const taken = takeFromGaps(s.gaps, seq);
    this.bound(s);
    return taken;
  }

  /**
   * Forgets that `seq` of `session` was routed, so its next offer is
   * taken again: for a message whose durable append failed, which its
   * sender will send again. Released numbers merge with the gaps beside
   * them, so releasing a batch from its top down leaves no new gap.
   */
  release(session: string, seq: number): void {
    const s = this.sessions.get(session);
    if (!s || seq > s.highest) return;
    if (s.gaps.some((g) => g.from <= seq && seq <= g.to)) return;
    if (seq === s.highest) {
      s.highest = seq - 1;
      const top = s.gaps.at(-1);
      if (top?.to === s.highest) {
        s.highest = top.from - 1;
        s.gaps.pop();
      }
      return;
    }
    let at = s.gaps.findIndex((g) => seq < g.from);
    if (at < 0) at = s.gaps.length;
    const before = s.gaps[at - 1];
    const after = s.gaps[at];
    if (before?.to === seq - 1 && after?.from === seq + 1) {
      before.to = after.to;
      s.gaps.splice(at, 1);
    } else if (before?.to === seq - 1) {
      before.to = seq;
    } else if (after?.from === seq + 1) {
      after.from = seq;
    } else {
      s.gaps.splice(at, 0, { from: seq, to: seq });
      this.bound(s);
    }
  }

  /** The state of `session` if held (a copy); does not count as a use. */
  state(session: string): SessionState | undefined {
    const s = this.sessions.get(session);
    if (!s) return undefined;
    return { highest: s.highest, gaps: s.gaps.map((g) => ({ ...g })) };
  }

  /**
   * Holds `state` for `session` (read back from disk), unless the session
   * is held already; the gaps are bounded as if they had been recorded.
   */
  install(session: string, state: SessionState): void {
    if (this.sessions.has(session)) return;
    const gaps = state.gaps.map((g) => ({ ...g }));
    const s = { highest: state.highest, gaps, pins: 0 };
    this.bound(s);
    this.add(session, s);
  }

  /**
   * Keeps `session` in memory until as many {@link unpin} calls: its
   * state is being written, and until the write is done the copy on disk
   * is older than this one.
   */
  pin(session: string): void {
    const s = this.sessions.get(session);
    if (s) s.pins += 1;
  }

  /** Ends one {@link pin}. */
  unpin(session: string): void {
    const s = this.sessions.get(session);
    if (s && s.pins > 0) s.pins -= 1;
  }

  /** True while a write of `session`'s state is in flight. */
  pinned(session: string): boolean {
    return (this.sessions.get(session)?.pins ?? 0) > 0;
  }

  private add(session: string, s: Session): void {
    this.sessions.set(session, s);
    if (this.sessions.size <= this.maxSessions) return;
    for (const [key, old] of this.sessions) {
      if (old.pins > 0) continue;
      this.sessions.delete(key);
      return;
    }
  }

  private bound(s: Session): void {
    if (s.gaps.length > this.maxGaps) {
      s.gaps.splice(0, s.gaps.length - this.maxGaps);
    }
  }
}

/** Removes `seq` from `gaps`; false when it is in none. */
function takeFromGaps(gaps: Gap[], seq: number): boolean {
  const i = gaps.findIndex((g) => g.from <= seq && seq <= g.to);
  if (i < 0) return false;
  const g = gaps[i]!;
  const parts: Gap[] = [];
  if (g.from < seq) parts.push({ from: g.from, to: seq - 1 });
  if (seq < g.to) parts.push({ from: seq + 1, to: g.to });
  gaps.splice(i, 1, ...parts);
  return true;
}
