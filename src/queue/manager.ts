import { Registry } from 'prom-client';
import { systemClock, type Clock } from '../common/clock.ts';
import { errorMessage, invariant } from '../common/errors.ts';
import type { QueueId } from '../common/ids.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import type { DataStore } from './data-store.ts';
import { DurableQueue } from './durable-queue.ts';
import { QueueClosedError } from './errors.ts';
import { GroupCommitter } from './group-commit.ts';
import { ItemClearer } from './item-clearer.ts';
import type { KvStore } from './kv-store.ts';
import { LevelKvStore } from './level-kv-store.ts';
import { MemoryKvStore } from './memory-kv-store.ts';
import { createQueueMetrics, type QueueMetrics } from './metrics.ts';
import {
  ackJob,
  appendJob,
  deleteMarksJob,
  isMarkKey,
  prepareAppends,
} from './jobs.ts';
import { QueueCore, type QueueHost } from './queue-core.ts';
import { tableRange } from './keys.ts';
import { recoverQueues } from './recovery.ts';
import {
  checkpointInTx,
  ensureInTx,
  EnsureRetry,
  installCommit,
  sampleByKind,
  sweepInTx,
} from './tx-apply.ts';
import { Tx } from './tx.ts';
import { validateSpec, type QueueSpec } from './types.ts';

/** Options of {@link QueueManager.open}. */
export interface QueueManagerOptions {
  /** Where queues live: a LevelDB data store, or RAM only ('memory'). */
  store: DataStore | 'memory';
  /** Time source; default the system clock. */
  clock?: Clock;
  /** Logger; default silent. */
  logger?: Logger;
  /** Where metrics register; default a private registry. */
  registry?: Registry;
  /** How long a write waits for others to share its fsync; default 2. */
  groupCommitWindowMs?: number;
  /** Period of the background sweep after start(); default 30 000. */
  sweepIntervalMs?: number;
}

/**
 * Appenders wait (instead of queueing more) while this many payload bytes
 * are already waiting for a write: bounds RAM held by the group commit.
 */
const MAX_PENDING_APPEND_BYTES = 64 * 1024 * 1024;

/** A caller-owned record written atomically with appends. */
export interface StoreMark {
  /** Starts with a router table tag, 0x10..0x1f. */
  key: Uint8Array;
  value: Uint8Array;
}

function checkMarkKey(key: Uint8Array): void {
  invariant(
    isMarkKey(key),
    'a mark key must start with a router table tag (0x10..0x1f)',
    { tag: key[0] },
  );
}

/**
 * Every durable queue of one data store. All changes (appends, acks,
 * spec updates, deletions, sweeps) go through one group commit, so they
 * are durable in call order, and several share each fsync.
 */
export class QueueManager {
  private readonly cores = new Map<QueueId, QueueCore>();
  private readonly facades = new WeakMap<QueueCore, DurableQueue>();
  private readonly committer: GroupCommitter<Tx>;
  private readonly clearer: ItemClearer;
  private readonly expiredListeners: ((
    id: QueueId,
    record: unknown,
  ) => void)[] = [];
  private readonly dropWarnedAtMs = new Map<QueueId, number>();
  private readonly metrics: QueueMetrics;
  private readonly host: QueueHost;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly sweepIntervalMs: number;
  private pendingAppendBytes = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private started = false;
  private closing = false;

  private constructor(
    private readonly kv: KvStore,
    private readonly ownsKv: boolean,
    o: Omit<QueueManagerOptions, 'store'>,
  ) {
    this.clock = o.clock ?? systemClock;
    this.logger = (o.logger ?? silentLogger()).child({ component: 'queue' });
    this.clearer = new ItemClearer(kv, this.logger);
    this.metrics = createQueueMetrics(o.registry ?? new Registry());
    this.metrics.sample = () =>
      sampleByKind(this.cores.values(), this.clock.now());
    this.sweepIntervalMs = o.sweepIntervalMs ?? 30_000;
    this.host = {
      kv,
      clock: this.clock,
      assertOpen: () => this.assertOpen(),
      appendMany: (entries) => this.appendMany(entries),
      ack: (core, uptoSeq) => this.ackCore(core, uptoSeq),
    };
    this.committer = new GroupCommitter<Tx>(kv, o.groupCommitWindowMs ?? 2, {
      begin: () => new Tx(kv, (id) => this.cores.get(id)),
      finish: (tx) => tx.finish(),
      committed: (tx, info) => this.installCommit(tx, info),
      failed: (_tx, err) => {
        this.metrics.commitFailures.inc();
        this.logger.error({ err: errorMessage(err) }, 'queue write failed');
      },
    });
  }

  /**
   * Opens the queues of `o.store`, recovering every queue found there
   * (counts logged at info). The manager does not close a DataStore it
   * was given; close it after `close()`.
   * @throws QueueRecordError never: unreadable queues are logged and left.
   */
  static async open(o: QueueManagerOptions): Promise<QueueManager> {
    const { store, ...rest } = o;
    if (store === 'memory') {
      return QueueManager.openOnKvStore(new MemoryKvStore(), rest, true);
    }
    return QueueManager.openOnKvStore(new LevelKvStore(store.db), rest, false);
  }

  /**
   * @internal A manager over any key-value store (tests reopen one
   * in-memory store to simulate a restart).
   */
  static async openOnKvStore(
    kv: KvStore,
    o: Omit<QueueManagerOptions, 'store'>,
    ownsKv = false,
  ): Promise<QueueManager> {
    const m = new QueueManager(kv, ownsKv, o);
    await m.recover();
    return m;
  }

  /**
   * Creates queue `id`, or updates the spec of the existing one (backlog,
   * seqs and drop count kept; shrunken limits drop oldest items at once).
   * Counts as a touch. Resolves when durable.
   * @throws InvalidQueueSpecError when the id or spec breaks a rule.
   */
  async ensureQueue(id: QueueId, spec: QueueSpec): Promise<DurableQueue> {
    this.assertOpen();
    validateSpec(id, spec);
    const copy = structuredClone(spec);
    for (;;) {
      await this.clearer.deletion(id);
      try {
        const core = await this.committer.submit({
          validate: (tx) => {
            if (tx.deleted.has(id)) throw new EnsureRetry();
          },
          apply: (tx) => ensureInTx(tx, this.host, id, copy),
        });
        return this.facade(core);
      } catch (err) {
        if (!(err instanceof EnsureRetry)) throw err;
      }
    }
  }

  /** The queue named `id`, if it exists. */
  get(id: QueueId): DurableQueue | undefined {
    const core = this.cores.get(id);
    return core && this.facade(core);
  }

  /** Every queue, in no particular order. */
  list(): DurableQueue[] {
    return [...this.cores.values()].map((core) => this.facade(core));
  }

  /**
   * Deletes queue `id` and its items; waiting consumers get
   * QueueDeletedError. Resolves once durable and the items are cleared.
   * No effect when the queue does not exist.
   */
  async deleteQueue(id: QueueId): Promise<void> {
    this.assertOpen();
    await this.clearer.deletion(id);
    await this.committer.submit({
      apply: (tx) => {
        const core = tx.lookup(id);
        if (core) tx.deleteQueue(core, false);
      },
    });
    await this.clearer.deletion(id);
  }

  /**
   * Appends each entry's bytes to its queue, in one synced write shared
   * with concurrent calls (group commit), dropping oldest items where
   * limits require it in the same write. Resolves with each entry's seq,
   * in entry order, once durable. All or nothing.
   * @throws QueueNotFoundError when a queue does not exist.
   * @throws QueueItemTooLargeError when an item exceeds its queue's
   * maxBytes; nothing is written.
   * @throws QueueWriteError when the store fails; nothing is written.
   *
   * `marks` are the caller's own records (keys tagged 0x10..0x1f, see
   * keys.ts), written in the same atomic batch: a router stores the
   * high-water mark of a trunk with the messages it covers, so a crash
   * can never keep one without the other. Marks alone (no entries) are
   * written too.
   */
  async appendMany(
    entries: { queue: QueueId; bytes: Uint8Array }[],
    o: { marks?: StoreMark[] } = {},
  ): Promise<{ queue: QueueId; seq: number }[]> {
    this.assertOpen();
    const marks = o.marks ?? [];
    for (const m of marks) checkMarkKey(m.key);
    if (entries.length === 0 && marks.length === 0) return [];
    const nowMs = this.clock.now();
    const prepared = prepareAppends(entries, this.cores, nowMs, this.metrics);
    const total = prepared.reduce((sum, p) => sum + p.sizeBytes, 0);
    while (this.pendingAppendBytes > MAX_PENDING_APPEND_BYTES) {
      await this.committer.flush();
    }
    this.pendingAppendBytes += total;
    try {
      return await this.committer.submit(
        appendJob(prepared, this.metrics, marks),
      );
    } finally {
      this.pendingAppendBytes -= total;
    }
  }

  /** A record written as a mark by {@link appendMany}, if any. */
  async readMark(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.assertOpen();
    checkMarkKey(key);
    return this.kv.get(key);
  }

  /**
   * Every mark of router table `tag` (0x10..0x1f), in key order, from a
   * snapshot taken when iteration starts.
   */
  marks(tag: number): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.assertOpen();
    checkMarkKey(Uint8Array.of(tag));
    return this.kv.scan(tableRange(tag));
  }

  /**
   * Deletes the marks among `keys` whose value makes `stale` true, judged
   * inside the group commit: a mark written by an appendMany called
   * earlier is judged by its new value, and one written by a later call
   * stays. Resolves with the keys deleted, once durable.
   */
  async deleteMarks(
    keys: Uint8Array[],
    stale: (value: Uint8Array) => boolean,
  ): Promise<Uint8Array[]> {
    this.assertOpen();
    for (const key of keys) checkMarkKey(key);
    if (keys.length === 0) return [];
    return this.committer.submit(deleteMarksJob(keys, stale));
  }

  /**
   * Drops items older than their queue's maxAgeMs (counted as drops) and
   * deletes subscription and downlink queues idle for idleExpiryMs
   * (onQueueExpired listeners are told). Queues with a waiting consumer
   * count as touched. Runs every sweepIntervalMs after start().
   */
  async sweep(): Promise<void> {
    this.assertOpen();
    const nowMs = this.clock.now();
    let more = true;
    while (more) {
      more = await this.committer.submit({
        apply: (tx) => sweepInTx(tx, this.cores.values(), nowMs),
      });
    }
  }

  /** Starts the periodic sweep. Idempotent. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.scheduleSweep();
  }

  /** Stops the periodic sweep and waits for a running one. Idempotent. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweeping;
  }

  /**
   * Stops, writes what is pending (touch times included), fails waiting
   * consumers with QueueClosedError and releases an in-memory store.
   * Later calls throw QueueClosedError. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.stop();
    await this.committer.submit({
      apply: (tx) => checkpointInTx(tx, this.cores.values(), this.clock.now()),
    });
    await this.clearer.idle();
    for (const core of this.cores.values()) core.close();
    if (this.ownsKv) await this.kv.close();
  }

  /** Calls `cb` after a queue was deleted for being idle. */
  onQueueExpired(cb: (id: QueueId, record: unknown) => void): void {
    this.expiredListeners.push(cb);
  }

  private async recover(): Promise<void> {
    const r = await recoverQueues(this.kv, this.clock, this.logger);
    for (const q of r.queues) {
      const { id, spec, counters, lastTouchMs } = q;
      this.cores.set(
        id,
        new QueueCore(this.host, id, spec, counters, lastTouchMs),
      );
    }
  }

  private ackCore(core: QueueCore, uptoSeq: number): Promise<void> {
    this.assertOpen();
    return this.committer.submit(ackJob(core, uptoSeq));
  }

  private installCommit(
    tx: Tx,
    info: { jobs: number; elapsedMs: number },
  ): void {
    installCommit(tx, {
      cores: this.cores,
      metrics: this.metrics,
      logger: this.logger,
      nowMs: this.clock.now(),
      dropWarnedAtMs: this.dropWarnedAtMs,
    });
    this.metrics.commits.inc();
    this.metrics.commitCalls.observe(info.jobs);
    this.metrics.commitSeconds.observe(info.elapsedMs / 1000);
    for (const [id, { core, expired }] of tx.deleted) {
      this.clearer.clearQueue(id);
      if (expired) this.notifyExpired(id, core.spec);
    }
    for (const c of tx.clears)
      this.clearer.clearRange(c.id, c.fromSeq, c.toSeq);
  }

  private notifyExpired(id: QueueId, spec: QueueSpec): void {
    for (const cb of this.expiredListeners) {
      try {
        cb(id, spec.record);
      } catch (err) {
        this.logger.error(
          { queue: id, err: errorMessage(err) },
          'queue expiry listener failed',
        );
      }
    }
  }

  private facade(core: QueueCore): DurableQueue {
    let q = this.facades.get(core);
    if (!q) {
      q = new DurableQueue(core);
      this.facades.set(core, q);
    }
    return q;
  }

  private scheduleSweep(): void {
    this.sweepTimer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((err: unknown) => {
          this.logger.error({ err: errorMessage(err) }, 'queue sweep failed');
        })
        .finally(() => {
          this.sweeping = undefined;
          if (this.started) this.scheduleSweep();
        });
    }, this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  private assertOpen(): void {
    if (this.closing) throw new QueueClosedError('queue manager closed', {});
  }
}
