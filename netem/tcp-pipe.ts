/**
 * One direction of one TCP connection through the TCP relay. TCP repairs
 * loss, duplication and reordering itself, so here a profile shows as
 * time, never as missing bytes:
 *
 * - rate: each chunk is serialised at `rateBitsPerSecond`, counting 40
 *   header bytes per 1448-byte segment;
 * - delay and jitter: added to every chunk, never reordering them (TCP
 *   hands the application bytes in order);
 * - loss: each segment of a chunk is lost with `lossPercent` (or the
 *   bursty model's mean) and then costs one retransmission timeout,
 *   which delays it and everything behind it (head-of-line blocking);
 * - link down or blackholed: chunks wait; when the link returns, they go
 *   at the sender's next retransmission after it, with the timeout
 *   doubling from the first attempt (capped at 120 s), as a real TCP
 *   sender backs off.
 *
 * Duplication and reordering fields have no effect here (TCP removes
 * both before the application sees them).
 */
import type { DirectionImpairment } from './profile-types.ts';
import { chance, normalSample, type Random } from './random.ts';
import type { Scheduler } from './scheduler.ts';

/** Payload bytes of one TCP segment on an Ethernet path. */
export const TCP_SEGMENT_BYTES = 1448;
/** IPv4, TCP and timestamp option bytes counted per segment. */
export const TCP_HEADER_BYTES = 40;
/** Linux's smallest retransmission timeout, ms. */
export const MIN_RTO_MS = 200;
/** Linux's largest retransmission timeout, ms. */
export const MAX_RTO_MS = 120_000;

/** What crosses the pipe: bytes, the sender's FIN, or a SYN. */
export type Chunk =
  { kind: 'data'; data: Buffer } | { kind: 'end' } | { kind: 'connect' };

/** Counters of one direction, summed over connections. */
export interface TcpDirectionCounters {
  /** Payload bytes read from the sending side. */
  bytesIn: number;
  /** Payload bytes written to the receiving side. */
  bytesForwarded: number;
  /** Segments the loss model lost (each cost a retransmission). */
  segmentsLost: number;
  /** Chunks that had to wait for the link to return. */
  chunksStalled: number;
  /** Bytes held now: waiting for the link or in flight. */
  heldBytes: number;
}

/** Counters all at zero. */
export function zeroTcpCounters(): TcpDirectionCounters {
  return {
    bytesIn: 0,
    bytesForwarded: 0,
    segmentsLost: 0,
    chunksStalled: 0,
    heldBytes: 0,
  };
}

/** Options of {@link TcpPipe}. */
export interface TcpPipeOptions {
  impairment: DirectionImpairment;
  /** Retransmission timeout of the connection, ms. */
  rtoMs: number;
  scheduler: Scheduler;
  random: Random;
  /** Whether the direction is up now. */
  isUp: () => boolean;
  /** Shared counters of this direction (all connections). */
  counters: TcpDirectionCounters;
  /** Hands a chunk to the receiving side; must not throw. */
  deliver: (chunk: Chunk) => void;
  /** Told when held bytes cross `pauseBytes` (true) or half of it. */
  onPressure: (paused: boolean) => void;
  /** Held bytes at which the sender is paused. */
  pauseBytes: number;
}

interface Waiting {
  chunk: Chunk;
  bytes: number;
  firstTryMs: number;
}

/** One direction of a relayed TCP connection; see the module comment. */
export class TcpPipe {
  private readonly waiting: Waiting[] = [];
  private rateFreeAtMs = -Infinity;
  private lastDepartureMs = -Infinity;
  private heldBytes = 0;
  private paused = false;
  private closed = false;
  private readonly cancels = new Set<() => void>();

  constructor(private readonly o: TcpPipeOptions) {}

  /** Takes a chunk from the sending side. */
  offer(chunk: Chunk): void {
    if (this.closed) return;
    const bytes = chunk.kind === 'data' ? chunk.data.length : 0;
    this.o.counters.bytesIn += bytes;
    this.hold(bytes);
    const nowMs = this.o.scheduler.now();
    if (this.waiting.length > 0) this.linkChanged();
    if (!this.o.isUp()) {
      this.o.counters.chunksStalled += 1;
      this.waiting.push({ chunk, bytes, firstTryMs: nowMs });
      return;
    }
    this.send(chunk, bytes, nowMs, this.firstTryDelayMs(chunk));
  }

  /** Sends what waited for the link, if it is up now. */
  linkChanged(): void {
    if (this.closed || !this.o.isUp()) return;
    const nowMs = this.o.scheduler.now();
    for (const w of this.waiting.splice(0)) {
      const atMs = nextRetransmitMs(w.firstTryMs, nowMs, this.o.rtoMs);
      this.send(w.chunk, w.bytes, atMs, 0);
    }
  }

  /** Drops everything held and cancels pending deliveries. */
  close(): void {
    this.closed = true;
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
    this.waiting.length = 0;
    this.hold(-this.heldBytes);
  }

  /** A SYN waits a full second per loss (Linux's initial timeout). */
  private firstTryDelayMs(chunk: Chunk): number {
    if (chunk.kind !== 'connect') return 0;
    return this.lossCount(1) * 1000;
  }

  private send(chunk: Chunk, bytes: number, fromMs: number, extraMs: number) {
    const x = this.o.impairment;
    const segments = Math.max(1, Math.ceil(bytes / TCP_SEGMENT_BYTES));
    let startMs = fromMs;
    if (x.rateBitsPerSecond > 0) {
      const wire = bytes + segments * TCP_HEADER_BYTES;
      startMs = Math.max(fromMs, this.rateFreeAtMs);
      this.rateFreeAtMs = startMs + (wire * 8 * 1000) / x.rateBitsPerSecond;
      startMs = this.rateFreeAtMs;
    }
    const lost = chunk.kind === 'data' ? this.lossCount(segments) : 0;
    const lossMs = lost * this.o.rtoMs;
    let atMs = startMs + this.sampleDelayMs() + lossMs + extraMs;
    atMs = Math.max(atMs, this.lastDepartureMs);
    this.lastDepartureMs = atMs;
    const cancel = this.o.scheduler.at(atMs, () => {
      this.cancels.delete(cancel);
      this.hold(-bytes);
      if (chunk.kind === 'data') this.o.counters.bytesForwarded += bytes;
      this.o.deliver(chunk);
    });
    this.cancels.add(cancel);
  }

  private lossCount(segments: number): number {
    const percent = meanLossPercent(this.o.impairment);
    let lost = 0;
    for (let i = 0; i < segments; i++) {
      if (chance(this.o.random, percent)) lost += 1;
    }
    this.o.counters.segmentsLost += lost;
    return lost;
  }

  private sampleDelayMs(): number {
    const { delayMs, jitterMs, jitterDistribution } = this.o.impairment;
    if (jitterMs === 0) return delayMs;
    const spread =
      jitterDistribution === 'normal'
        ? normalSample(this.o.random)
        : 2 * this.o.random() - 1;
    return Math.max(0, delayMs + jitterMs * spread);
  }

  private hold(bytes: number): void {
    this.heldBytes += bytes;
    this.o.counters.heldBytes += bytes;
    const { pauseBytes } = this.o;
    if (!this.paused && this.heldBytes >= pauseBytes) {
      this.paused = true;
      this.o.onPressure(true);
    } else if (this.paused && this.heldBytes < pauseBytes / 2) {
      this.paused = false;
      this.o.onPressure(false);
    }
  }
}

/**
 * The long-run loss rate of a direction, %: `lossPercent`, or the
 * stationary loss of its Gilbert-Elliott chain.
 */
export function meanLossPercent(x: DirectionImpairment): number {
  const b = x.lossBurst;
  if (!b) return x.lossPercent;
  const p = b.goodToBadPercent;
  const r = b.badToGoodPercent;
  if (p + r === 0) return b.goodLossPercent;
  const bad = p / (p + r);
  return bad * b.badLossPercent + (1 - bad) * b.goodLossPercent;
}

/**
 * A connection's retransmission timeout from both directions' delay and
 * jitter, ms: round trip plus four times the jitter, at least Linux's
 * 200 ms.
 */
export function retransmitTimeoutMs(
  up: DirectionImpairment,
  down: DirectionImpairment,
): number {
  const rttMs = up.delayMs + down.delayMs;
  const varMs = up.jitterMs + down.jitterMs;
  return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, rttMs + 4 * varMs));
}

/**
 * When a sender that first tried at `firstTryMs` and backs off from
 * `rtoMs` (doubling, capped at {@link MAX_RTO_MS}) next retransmits at
 * or after `nowMs`.
 */
export function nextRetransmitMs(
  firstTryMs: number,
  nowMs: number,
  rtoMs: number,
): number {
  let atMs = firstTryMs;
  let stepMs = rtoMs;
  while (atMs < nowMs) {
    atMs += stepMs;
    stepMs = Math.min(stepMs * 2, MAX_RTO_MS);
  }
  return atMs;
}
