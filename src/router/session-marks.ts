/**
 * Publisher session marks: what SessionSeqs knows of each publisher
 * session, kept on disk so that a resend after a router restart (or after
 * the session left memory) is still dropped. Each mark is written in the
 * same queue-store batch as the messages it covers (router table 0x16),
 * so a crash keeps both or neither.
 *
 * Key: 0x16, then the session id (UTF-8). Value: CBOR
 * `[highest, lastUsedMs, [from, to, from, to, ...]]`, the gaps flattened.
 */
import type { Counter, Gauge } from 'prom-client';
import type { Clock } from '../common/clock.ts';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import {
  QueueClosedError,
  QueueRecordError,
  type QueueManager,
  type StoreMark,
} from '../queue/index.ts';
import { decode, encode } from '../wire/index.ts';
import { markKey } from './hwm.ts';
import {
  SessionSeqs,
  type Gap,
  type SessionSeqsOptions,
  type SessionState,
} from './session-seqs.ts';

const TAG_SESSION_MARK = 0x16;
/** Marks are kept at least this long after their last use: 7 days. */
export const MIN_SESSION_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Period of the sweep of old marks: hourly (and once at start). */
const SWEEP_INTERVAL_MS = 3600 * 1000;
/** Marks deleted per group-commit job by the sweep. */
const DELETE_CHUNK = 1000;

const text = new TextDecoder();

/** The mark key of publisher session `session`. */
export function sessionMarkKey(session: string): Uint8Array {
  return markKey(TAG_SESSION_MARK, session);
}

/** A session's stored state and when it last took a message (ms). */
export interface SessionMark {
  state: SessionState;
  lastUsedMs: number;
}

/** CBOR encoding of a mark; see the module. */
export function encodeSessionMark(m: SessionMark): Uint8Array {
  const flat = m.state.gaps.flatMap((g) => [g.from, g.to]);
  return encode([m.state.highest, m.lastUsedMs, flat]);
}

/**
 * Reads a mark back.
 * @throws QueueRecordError when the bytes are not a mark this code wrote
 * (gaps must be ascending, disjoint and below the highest number).
 */
export function decodeSessionMark(bytes: Uint8Array): SessionMark {
  const fail = (reason: string): never => {
    throw new QueueRecordError(`unreadable publisher session mark: ${reason}`, {
      table: 'publisher session marks',
      reason,
    });
  };
  const v = decode(bytes);
  if (!Array.isArray(v) || v.length !== 3) return fail('not a 3-item array');
  const [highest, lastUsedMs, flat] = v as unknown[];
  if (!isInt(highest) || !isInt(lastUsedMs)) return fail('not integers');
  if (!Array.isArray(flat) || flat.length % 2 !== 0) return fail('gaps');
  const gaps: Gap[] = [];
  let floor = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < flat.length; i += 2) {
    const [from, to] = [flat[i] as unknown, flat[i + 1] as unknown];
    if (!isInt(from) || !isInt(to) || from <= floor || to < from) {
      return fail('gaps not ascending');
    }
    if (to >= highest) return fail('gap at or above the highest');
    gaps.push({ from, to });
    floor = to;
  }
  return { state: { highest, gaps }, lastUsedMs };
}

function isInt(x: unknown): x is number {
  return Number.isSafeInteger(x);
}

/** When a stored mark was last used; -Infinity when it is unreadable. */
function lastUsedOf(bytes: Uint8Array): number {
  try {
    return decodeSessionMark(bytes).lastUsedMs;
  } catch {
    // Unreadable: the loader treats it as absent, so it may go.
    return Number.NEGATIVE_INFINITY;
  }
}

/** How long marks are kept: the longest queue lifetime, or 7 days. */
export function sessionRetentionMs(queueExpiryMs: number): number {
  return Math.max(queueExpiryMs, MIN_SESSION_RETENTION_MS);
}

/** Options of {@link PublisherSessions}. */
export interface PublisherSessionsOptions {
  queues: QueueManager;
  clock: Clock;
  logger: Logger;
  metrics: { publisherSessions: Gauge; publishDuplicates: Counter };
  /** Marks not used for longer are deleted by the sweep. */
  retentionMs: number;
  /** Bounds of the in-memory part; see {@link SessionSeqs}. */
  seqs?: SessionSeqsOptions;
}

/** What {@link PublisherSessions.marksFor} gives a batch. */
export interface SessionWrite {
  /** One mark per session, for the batch that stores the messages. */
  marks: StoreMark[];
  /** Call once with the batch's outcome (the error when it failed). */
  settled(err?: unknown): void;
}

/**
 * Duplicate suppression per publisher session, in memory and on disk.
 * A router asks {@link inTurn} to run its routing step once every
 * session of the batch is in memory, takes messages with
 * {@link firstTime}, and writes {@link marksFor} in the batch.
 */
export class PublisherSessions {
  readonly seqs: SessionSeqs;
  private readonly log: Logger;
  /** Routing steps waiting for marks to load, chained in call order. */
  private tail: Promise<void> | undefined;
  /** Sessions held in memory that have no mark on disk yet. */
  private readonly unstored = new Set<string>();
  /** Marks made since start (counted when their first write is done). */
  private created = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly o: PublisherSessionsOptions) {
    this.seqs = new SessionSeqs(o.seqs);
    this.log = o.logger.child({ component: 'publisher-sessions' });
  }

  /**
   * Runs `step` once every session in `sessions` is in memory (marks
   * read back from disk as needed). Steps run in call order: at once
   * when nothing is loading and every session is held (no read at all),
   * else after the steps called before them. Only reaching `step` is
   * serialized, not what it returns. Rejects when a mark cannot be read.
   */
  inTurn<T>(sessions: readonly string[], step: () => Promise<T>): Promise<T> {
    if (this.tail === undefined && sessions.every((s) => this.seqs.has(s))) {
      return step();
    }
    let result: Promise<T> | undefined;
    const reached = (this.tail ?? Promise.resolve()).then(async () => {
      await this.load(sessions);
      result = step();
    });
    // A failed load fails its own step only.
    const tail = reached.catch(() => undefined);
    this.tail = tail;
    void tail.then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    return reached.then(() => result as Promise<T>);
  }

  /** True the first time `seq` of `session` is offered; see SessionSeqs. */
  firstTime(session: string, seq: number): boolean {
    if (this.seqs.firstTime(session, seq)) return true;
    this.o.metrics.publishDuplicates.inc();
    return false;
  }

  /**
   * The marks recording the sessions of `taken` (messages just taken,
   * in the order taken), one per session. The sessions stay in memory
   * until `settled`; on failure their numbers are released and the
   * marks written again, since a later batch may have recorded them.
   */
  marksFor(taken: readonly { session: string; seq: number }[]): SessionWrite {
    const sessions = new Set(taken.map((m) => m.session));
    const marks = this.pin(sessions);
    return {
      marks,
      settled: (err?: unknown) => {
        if (err !== undefined) {
          for (let i = taken.length - 1; i >= 0; i--) {
            this.seqs.release(taken[i]!.session, taken[i]!.seq);
          }
          if (!(err instanceof QueueClosedError)) this.rewrite(sessions);
        }
        this.unpin(sessions, err === undefined);
      },
    };
  }

  /**
   * Deletes the marks not used for longer than the retention, and sets
   * the gauge of marks held. Runs hourly after {@link start}.
   * @returns how many marks were deleted.
   */
  async sweep(): Promise<number> {
    const cutoffMs = this.o.clock.now() - this.o.retentionMs;
    const stale = (v: Uint8Array): boolean => lastUsedOf(v) < cutoffMs;
    const createdBefore = this.created;
    let held = 0;
    let deleted = 0;
    let keys: Uint8Array[] = [];
    const drop = async (): Promise<void> => {
      const gone = await this.o.queues.deleteMarks(keys, stale);
      keys = [];
      deleted += gone.length;
      for (const key of gone) {
        const session = text.decode(key.subarray(1));
        if (this.seqs.has(session)) this.unstored.add(session);
      }
    };
    for await (const [key, value] of this.o.queues.marks(TAG_SESSION_MARK)) {
      held += 1;
      if (stale(value)) keys.push(key);
      if (keys.length >= DELETE_CHUNK) await drop();
    }
    await drop();
    for (const s of this.unstored)
      if (!this.seqs.has(s)) this.unstored.delete(s);
    const made = this.created - createdBefore;
    this.o.metrics.publisherSessions.set(held - deleted + made);
    return deleted;
  }

  /** Sweeps now and then hourly. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.runSweep();
  }

  /** Stops the sweep and waits for a running one. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  private runSweep(): void {
    this.sweeping = this.sweep()
      .then(
        (deleted) => {
          if (deleted > 0) {
            this.log.info({ deleted }, 'old publisher session marks deleted');
          }
        },
        (err: unknown) => {
          this.log.error(
            { err: errorMessage(err) },
            'publisher session sweep failed',
          );
        },
      )
      .finally(() => {
        this.sweeping = undefined;
        if (!this.running) return;
        this.timer = setTimeout(() => this.runSweep(), SWEEP_INTERVAL_MS);
        this.timer.unref();
      });
  }

  /** Reads the marks of the sessions not held, and holds them. */
  private async load(sessions: readonly string[]): Promise<void> {
    const missing = [...new Set(sessions)].filter((s) => !this.seqs.has(s));
    const values = await Promise.all(
      missing.map((s) => this.o.queues.readMark(sessionMarkKey(s))),
    );
    missing.forEach((session, i) => {
      const value = values[i];
      if (value === undefined) {
        this.unstored.add(session);
        return;
      }
      try {
        this.seqs.install(session, decodeSessionMark(value).state);
      } catch (err) {
        // Our own record, unreadable: the session starts afresh (a resend
        // of what it covered would be taken again) and its next write
        // replaces the record.
        this.log.error(
          { session, err: errorMessage(err) },
          'publisher session mark unreadable',
        );
      }
    });
  }

  /** Pins `sessions` and encodes their marks, stamped now. */
  private pin(sessions: Iterable<string>): StoreMark[] {
    const lastUsedMs = this.o.clock.now();
    const marks: StoreMark[] = [];
    for (const session of sessions) {
      const state = this.seqs.state(session);
      if (!state) continue;
      this.seqs.pin(session);
      marks.push({
        key: sessionMarkKey(session),
        value: encodeSessionMark({ state, lastUsedMs }),
      });
    }
    return marks;
  }

  private unpin(sessions: Iterable<string>, written: boolean): void {
    for (const session of sessions) {
      this.seqs.unpin(session);
      if (written && this.unstored.delete(session)) {
        this.created += 1;
        this.o.metrics.publisherSessions.inc();
      }
    }
  }

  /**
   * Writes the marks of `sessions` again after a failed batch. Until this
   * is durable, a later batch that did commit may have recorded numbers
   * that were never stored, and a crash meanwhile would keep that record.
   */
  private rewrite(sessions: Set<string>): void {
    const marks = this.pin(sessions);
    void this.o.queues.appendMany([], { marks }).then(
      () => this.unpin(sessions, true),
      (err: unknown) => {
        this.unpin(sessions, false);
        this.log.error(
          { err: errorMessage(err) },
          'publisher session marks not written again',
        );
      },
    );
  }
}
