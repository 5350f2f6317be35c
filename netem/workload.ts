/**
 * The workload of a trial: a publisher that sends numbered messages at a
 * steady rate, and a log of what a subscriber received (first deliveries,
 * duplicates, reordering, latency, queue drops). Both sides run in one
 * process, so a message's latency is measured on one clock: from the
 * publish call to its arrival at the subscriber.
 */
import type { Subscription } from '../src/agent/index.ts';
import { errorMessage, sleep } from '../src/common/index.ts';

/** URI every trial message is published on. */
export const TRIAL_URI = 'netem/seq';
/** Pattern the trial subscriber listens on. */
export const TRIAL_PATTERN = 'netem/*';

/**
 * Publishes not yet acknowledged by the site router, at most. Overflow
 * policy: the publisher waits for the oldest before sending more, so a
 * slow router lowers the rate instead of growing memory.
 */
const MAX_IN_FLIGHT = 1000;

/**
 * Payload of message `seq`: `seq=<n> ` padded with dots to `bytes`
 * (at least 16), readable when printed by `wavemq sub`.
 */
export function trialPayload(seq: number, bytes: number): Buffer {
  const head = Buffer.from(`seq=${seq} `, 'utf8');
  const out = Buffer.alloc(Math.max(bytes, 16, head.length), '.');
  head.copy(out);
  return out;
}

/** The sequence number in a trial payload, or undefined if foreign. */
export function payloadSeq(content: Uint8Array): number | undefined {
  const text = Buffer.from(content.subarray(0, 24)).toString('utf8');
  const m = /^seq=(\d+) /.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Options of {@link PacedPublisher}. */
export interface PacedPublisherOptions {
  /**
   * Publishes one message; resolves once the broker or router has
   * acknowledged it (told the publisher it is stored), rejects when it
   * refused or lost it.
   */
  publish: (seq: number, payload: Buffer) => Promise<unknown>;
  /** Messages to publish, numbered 0 to count - 1. */
  count: number;
  /** Messages per second. */
  ratePerSecond: number;
  /** Payload size, bytes. */
  payloadBytes: number;
  /**
   * Receives performance.now() of each publish call, ms, at index seq
   * (length `count`, NaN until called); shared with the DeliveryLog.
   */
  sentAtMs: Float64Array;
  /** Told about each publish once the router has acknowledged it. */
  onPublished?: (seq: number) => void;
  /** Told about each publish the router refused or lost. */
  onFailed?: (seq: number) => void;
}

/**
 * Publishes `count` messages, message i at i / rate seconds after the
 * start (later when the router falls behind by MAX_IN_FLIGHT).
 */
export class PacedPublisher {
  /** Publishes acknowledged. */
  published = 0;
  /** Publishes that failed. */
  failed = 0;
  /** Publish calls made. */
  started = 0;
  /** Text of the first publish error, if any. */
  firstError: string | undefined;

  constructor(private readonly o: PacedPublisherOptions) {}

  /**
   * Publishes every message and waits until each is acknowledged or has
   * failed. An abort stops sending; what was sent is still awaited.
   */
  async run(o: { signal?: AbortSignal } = {}): Promise<void> {
    const startMs = performance.now();
    const intervalMs = 1000 / this.o.ratePerSecond;
    const inFlight = new Set<Promise<void>>();
    for (let seq = 0; seq < this.o.count; seq++) {
      const waitMs = startMs + seq * intervalMs - performance.now();
      if (waitMs > 0) {
        const stopped = await sleep(waitMs, o.signal).then(
          () => false,
          () => true,
        );
        if (stopped) break;
      }
      if (o.signal?.aborted) break;
      const p = this.publishOne(seq).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  private async publishOne(seq: number): Promise<void> {
    this.started += 1;
    this.o.sentAtMs[seq] = performance.now();
    try {
      await this.o.publish(seq, trialPayload(seq, this.o.payloadBytes));
      this.published += 1;
      this.o.onPublished?.(seq);
    } catch (err) {
      this.failed += 1;
      this.firstError ??= errorMessage(err);
      this.o.onFailed?.(seq);
    }
  }
}

/** What the subscriber saw, by message sequence number. */
export class DeliveryLog {
  /** Distinct messages received. */
  delivered = 0;
  /** Receptions of a message already received. */
  duplicated = 0;
  /** First receptions of a message after a higher-numbered one. */
  reordered = 0;
  /** Messages whose payload is not a trial payload (or out of range). */
  foreign = 0;
  /** Highest `drops` seen on a message: the subscriber queue's drops. */
  queueDrops = 0;
  /** performance.now() of the latest reception, ms. */
  lastReceivedAtMs = 0;
  /** Latency of each first reception, ms, in arrival order. */
  readonly latenciesMs: number[] = [];
  /** First reception time of each message, ms; NaN until received. */
  readonly receivedAtMs: Float64Array;
  private highest = -1;
  /** Every message below this is received or known never to come. */
  private settledBelow = 0;
  private readonly settled: Uint8Array;

  constructor(
    readonly count: number,
    /** Publish call times by seq, ms (see PacedPublisherOptions). */
    readonly sentAtMs: Float64Array,
  ) {
    this.receivedAtMs = new Float64Array(count).fill(NaN);
    this.settled = new Uint8Array(count);
  }

  /** Records one reception of message `seq`, carrying `drops`. */
  record(seq: number | undefined, drops: number, nowMs: number): void {
    this.lastReceivedAtMs = nowMs;
    this.queueDrops = Math.max(this.queueDrops, drops);
    if (seq === undefined || seq < 0 || seq >= this.count) {
      this.foreign += 1;
      return;
    }
    if (!Number.isNaN(this.receivedAtMs[seq]!)) {
      this.duplicated += 1;
      return;
    }
    this.receivedAtMs[seq] = nowMs;
    this.delivered += 1;
    if (seq < this.highest) this.reordered += 1;
    this.highest = Math.max(this.highest, seq);
    const sent = this.sentAtMs[seq]!;
    if (!Number.isNaN(sent)) this.latenciesMs.push(nowMs - sent);
    this.settle(seq);
  }

  /** Marks message `seq` as one that will never arrive (publish failed). */
  abandon(seq: number): void {
    this.settle(seq);
  }

  /**
   * The time every message below `n` had arrived (or was abandoned):
   * the latest first reception among them, ms; undefined while some are
   * still missing.
   */
  allReceivedBelow(n: number): number | undefined {
    if (this.settledBelow < n) return undefined;
    let latest = 0;
    for (let i = 0; i < n; i++) {
      const at = this.receivedAtMs[i]!;
      if (!Number.isNaN(at)) latest = Math.max(latest, at);
    }
    return latest;
  }

  private settle(seq: number): void {
    this.settled[seq] = 1;
    while (
      this.settledBelow < this.count &&
      this.settled[this.settledBelow] === 1
    ) {
      this.settledBelow += 1;
    }
  }
}

/**
 * Reads `sub` into `log`, acknowledging each message, until the stream
 * ends or fails; resolves with the error text when it failed.
 */
export async function consume(
  sub: Subscription,
  log: DeliveryLog,
): Promise<string | undefined> {
  try {
    for await (const m of sub) {
      const content = m.payloads[0]?.content ?? new Uint8Array();
      log.record(payloadSeq(content), m.drops, performance.now());
      sub.ack(m);
    }
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}
