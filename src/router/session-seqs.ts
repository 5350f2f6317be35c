/**
 * Which sequence numbers of each publisher session a router has routed,
 * so that a resent message is dropped and a late one is not. Publishers
 * number their messages 1, 2, 3, ... per session. Messages usually arrive
 * in order, but a batch that was refused and sent again (or lost on one
 * link and resent on the next) can arrive after later ones: its numbers
 * are then below the highest seen and must still be taken once. So each
 * session keeps its highest number and the ranges below it not yet seen.
 */
import { LruMap } from '../common/index.ts';

/** One range of numbers not yet seen, inclusive. */
interface Gap {
  from: number;
  to: number;
}

interface Session {
  highest: number;
  /** Ascending, disjoint. */
  gaps: Gap[];
}

/** Options of {@link SessionSeqs}. */
export interface SessionSeqsOptions {
  /** Sessions remembered; the least recently used is forgotten. */
  maxSessions?: number;
  /**
   * Gaps kept per session. Overflow policy: the oldest (lowest) gap is
   * forgotten, and a message from it would then be taken for a resend.
   */
  maxGaps?: number;
}

/** Per-session record of routed sequence numbers; see the module. */
export class SessionSeqs {
  private readonly sessions: LruMap<string, Session>;
  private readonly maxGaps: number;

  /** Defaults: 65 536 sessions, 64 gaps each. */
  constructor(o: SessionSeqsOptions = {}) {
    this.sessions = new LruMap(o.maxSessions ?? 65_536);
    this.maxGaps = o.maxGaps ?? 64;
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
      this.sessions.set(session, { highest: seq, gaps });
      return true;
    }
    if (seq > s.highest) {
      if (seq > s.highest + 1) {
        s.gaps.push({ from: s.highest + 1, to: seq - 1 });
        if (s.gaps.length > this.maxGaps) s.gaps.shift();
      }
      s.highest = seq;
      return true;
    }
    const taken = takeFromGaps(s.gaps, seq);
    if (s.gaps.length > this.maxGaps) s.gaps.shift();
    return taken;
  }

  /**
   * Forgets that `seq` of `session` was routed, so its next offer is
   * taken again: for a message whose durable append failed, which its
   * sender will send again.
   */
  release(session: string, seq: number): void {
    const s = this.sessions.get(session);
    if (!s || seq > s.highest) return;
    if (seq === s.highest) {
      s.highest = seq - 1;
      return;
    }
    const at = s.gaps.findIndex((g) => seq < g.from);
    if (s.gaps.some((g) => g.from <= seq && seq <= g.to)) return;
    s.gaps.splice(at < 0 ? s.gaps.length : at, 0, { from: seq, to: seq });
    if (s.gaps.length > this.maxGaps) s.gaps.shift();
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
