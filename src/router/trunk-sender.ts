/**
 * Drains a trunk queue to the designated router over one live link:
 * peek, send in batches with their trunk sequence numbers, and remove
 * only what the designated router acked (cumulatively, after its durable
 * append). Proofs and publisher entities go in full the first time this
 * link uses them. A link that stops acking for longer than a timeout
 * derived from the measured round trip is given up, and the uplink
 * reconnects; what was in flight is sent again and dropped there as a
 * duplicate if it had arrived.
 */
import type { Logger } from '../common/logger.ts';
import type { DurableQueue, QueueItem } from '../queue/index.ts';
import { decode, type TrunkItem, type WireMessage } from '../wire/index.ts';
import type { Router } from './router.ts';
import type { PeerLink } from './peer-link.ts';
import { consumedUpTo } from './delivery.ts';

/** Most messages in flight (sent, not acked) on a trunk. */
const WINDOW_ITEMS = 4096;
/** Most messages, and bytes, in one batch. */
const BATCH_ITEMS = 512;
const BATCH_BYTES = 512 * 1024;
/** Bounds of the ack timeout, ms: 2-second satellite RTTs fit easily. */
const MIN_ACK_TIMEOUT_MS = 15_000;
const MAX_ACK_TIMEOUT_MS = 120_000;

/** What a {@link TrunkSender} works with. */
export interface TrunkSenderOptions {
  router: Router;
  link: PeerLink;
  queue: DurableQueue;
  ns: string;
  log: Logger;
  /** Told `true` while a backlog is being sent, `false` when caught up. */
  onState: (draining: boolean) => void;
}

/** Sends one trunk over one link until the link fails. */
export class TrunkSender {
  private acked: number;
  private sent: number;
  private readonly sentObjects = new Set<string>();
  private wake: (() => void) | undefined;
  private srttMs = 0;
  private readonly sendTimes = new Map<number, number>();
  private rate = 0;
  private lastAckAtMs = performance.now();
  /** The next batch starts a resend the designated router asked for. */
  private rewindNext = false;
  /** Counts rewinds, so a batch sent across one does not move `sent`. */
  private generation = 0;

  constructor(private readonly o: TrunkSenderOptions) {
    // The designated router already holds everything up to its mark.
    this.acked = Math.max(consumedUpTo(o.queue), o.link.hwm);
    this.sent = this.acked;
    o.link.onAck((seq) => this.onAck(seq));
    o.link.onNeed(() => this.rewind());
  }

  /** Smoothed time from sending a batch to its ack, ms; 0 before one. */
  get smoothedRttMs(): number {
    return this.srttMs;
  }

  /** Trunk messages acked per second, smoothed over recent acks. */
  get drainRate(): number {
    return this.rate;
  }

  /** Runs until the link ends; rejects with the link's error. */
  async run(): Promise<void> {
    const q = this.o.queue;
    if (this.o.link.hwm > q.tailSeq) {
      // The designated router holds more of this trunk than this site ever
      // numbered: the site's queue store was replaced while its router id
      // was kept. New messages would be taken for resends and dropped.
      // Not recovered automatically yet: the operator must give the site a
      // new router id (delete its persist store) so numbering starts clean.
      this.o.log.error(
        { hwm: this.o.link.hwm, tailSeq: q.tailSeq },
        'trunk numbering is behind the designated router',
      );
    }
    const upTo = Math.min(this.acked, q.tailSeq);
    if (upTo > consumedUpTo(q)) await q.ack(upTo);
    const ended = this.o.link.ended.then(() => {
      throw this.o.link.error ?? new Error('link ended');
    });
    ended.catch(() => this.wake?.());
    await Promise.race([this.loop(), ended]);
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.o.link.error) throw this.o.link.error;
      this.o.onState(this.o.queue.tailSeq > this.acked);
      this.checkAckTimeout();
      if (this.sent - this.acked < WINDOW_ITEMS) {
        const items = await this.o.queue.peek(this.sent, {
          maxItems: Math.min(
            BATCH_ITEMS,
            WINDOW_ITEMS - (this.sent - this.acked),
          ),
          maxBytes: BATCH_BYTES,
        });
        const last = items.at(-1);
        if (last) {
          if (await this.sendBatch(items)) this.sent = last.seq;
          continue;
        }
      }
      await this.waitForWork();
    }
  }

  /**
   * Sends one batch; false when a rewind happened meanwhile, in which case
   * nothing was sent (the loop starts again from the last ack).
   */
  private async sendBatch(items: QueueItem[]): Promise<boolean> {
    const generation = this.generation;
    const rewind = this.rewindNext;
    this.rewindNext = false;
    const out: TrunkItem[] = [];
    for (const i of items) out.push(await this.attach(i));
    if (generation !== this.generation) return false;
    this.sendTimes.set(items.at(-1)!.seq, performance.now());
    await this.o.link.stream.send({ t: 'tbatch', items: out, rewind });
    this.o.router.metrics.trunkSent.inc({ ns: this.o.ns }, items.length);
    return true;
  }

  /** Adds the proof and entity the first time this link needs them. */
  private async attach(item: QueueItem): Promise<TrunkItem> {
    // Queued bytes were validated when the message was admitted here; only
    // the two names are needed, so the full field checks are skipped.
    const m = decode(item.bytes) as Pick<
      WireMessage,
      'proofHash' | 'publisher'
    >;
    const t: TrunkItem = { seq: item.seq, m: item.bytes };
    if (!this.sentObjects.has(m.proofHash)) {
      t.proof = (await this.o.router.authorizer.proof(m.proofHash)).bytes;
      this.sentObjects.add(m.proofHash);
    }
    if (!this.sentObjects.has(m.publisher)) {
      t.entity = (await this.o.router.authorizer.entity(m.publisher)).bytes;
      this.sentObjects.add(m.publisher);
    }
    return t;
  }

  /**
   * The designated router lacks a proof or entity this link sent by hash:
   * forget what it was thought to have and resend from the last ack.
   */
  private rewind(): void {
    this.sentObjects.clear();
    this.sendTimes.clear();
    this.sent = this.acked;
    this.rewindNext = true;
    this.generation += 1;
    this.wake?.();
  }

  private onAck(seq: number): void {
    if (seq <= this.acked) return;
    const now = performance.now();
    for (const [s, at] of this.sendTimes) {
      if (s > seq) break;
      const rtt = now - at;
      this.srttMs = this.srttMs === 0 ? rtt : 0.875 * this.srttMs + 0.125 * rtt;
      this.sendTimes.delete(s);
    }
    const count = seq - this.acked;
    const dt = Math.max(1, now - this.lastAckAtMs) / 1000;
    this.rate = 0.8 * this.rate + 0.2 * (count / dt);
    this.lastAckAtMs = now;
    this.acked = seq;
    this.o.router.metrics.trunkAcked.inc({ ns: this.o.ns }, count);
    this.o.router.metrics.drainRate.set({ ns: this.o.ns }, this.rate);
    void this.o.queue.ack(seq).catch((err: unknown) => {
      this.o.log.error({ err: String(err) }, 'trunk ack write failed');
    });
    this.wake?.();
  }

  /** How long an unacked batch may wait, from the measured RTT. */
  private ackTimeoutMs(): number {
    const t = 8 * this.srttMs + 5000;
    return Math.min(MAX_ACK_TIMEOUT_MS, Math.max(MIN_ACK_TIMEOUT_MS, t));
  }

  private checkAckTimeout(): void {
    const oldest = this.sendTimes.values().next();
    if (oldest.done) return;
    if (performance.now() - oldest.value > this.ackTimeoutMs()) {
      throw new Error('designated router stopped acking the trunk');
    }
  }

  private async waitForWork(): Promise<void> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 1000);
    timer.unref();
    try {
      await Promise.race([
        new Promise<void>((resolve) => (this.wake = resolve)),
        new Promise<void>((resolve) =>
          ctl.signal.addEventListener('abort', () => resolve(), { once: true }),
        ),
        this.sent - this.acked < WINDOW_ITEMS
          ? this.o.queue.waitForItems(this.sent, { signal: ctl.signal })
          : new Promise<void>(() => undefined),
      ]);
    } catch (err) {
      // Our own abort of waitForItems is a wake-up; anything else is real.
      if (!ctl.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      ctl.abort();
      this.wake = undefined;
    }
  }
}
