/**
 * One direction of the emulated link. Each packet goes through, in order:
 * link state (down or blackholed: dropped), loss, duplication, the packet
 * limit, the rate queue (a serialising bottleneck with a byte-bounded
 * FIFO), then the delay line (delay plus jitter; a reordered packet skips
 * it). Decisions are made when a packet arrives; a link that goes down
 * later does not recall packets already queued.
 */
import type { DirectionImpairment } from './profile-types.ts';
import { chance, normalSample, type Random } from './random.ts';
import type { LinkState } from './schedule.ts';
import type { Scheduler } from './scheduler.ts';

/** IPv4 (20) and UDP (8) header bytes counted by the rate per datagram. */
export const IP_UDP_OVERHEAD_BYTES = 28;

/** Counters of one direction, all since start. */
export interface DirectionCounters {
  /** Datagrams that arrived at the relay for this direction. */
  packetsIn: number;
  /** Their UDP payload bytes. */
  bytesIn: number;
  /** Datagrams handed to the socket (duplicates included). */
  forwarded: number;
  bytesForwarded: number;
  /** Dropped by `lossPercent` or `lossBurst`. */
  droppedLoss: number;
  /** Dropped while the link was down (outage, flapping, setDown). */
  droppedOutage: number;
  /** Dropped while the direction was blackholed. */
  droppedBlackhole: number;
  /** Tail-dropped: the rate queue held `rateQueueBytes` already. */
  droppedRateQueue: number;
  /** Tail-dropped: `limitPackets` were held already. */
  droppedLimit: number;
  /** Dropped by the relay itself: client table full, client gone. */
  droppedOther: number;
  /** Forwarded datagrams whose send then failed. */
  sendErrors: number;
  /** Extra copies made by `duplicatePercent`. */
  duplicated: number;
  /** Packets that skipped the delay line (`reorderPercent`). */
  reordered: number;
  /** Packets held now (rate queue and delay line). */
  heldPackets: number;
  /** Bytes waiting in the rate queue now. */
  queuedBytes: number;
}

/** Counters all at zero. */
export function zeroCounters(): DirectionCounters {
  return {
    packetsIn: 0,
    bytesIn: 0,
    forwarded: 0,
    bytesForwarded: 0,
    droppedLoss: 0,
    droppedOutage: 0,
    droppedBlackhole: 0,
    droppedRateQueue: 0,
    droppedLimit: 0,
    droppedOther: 0,
    sendErrors: 0,
    duplicated: 0,
    reordered: 0,
    heldPackets: 0,
    queuedBytes: 0,
  };
}

/** Options of {@link DirectionShaper}. */
export interface ShaperOptions<P> {
  impairment: DirectionImpairment;
  scheduler: Scheduler;
  random: Random;
  /**
   * Sends a packet that made it through; false when it cannot be sent
   * (counted as droppedOther). Must not throw.
   */
  deliver: (packet: P, bytes: number) => boolean;
}

/** Applies one direction's impairment to the packets offered to it. */
export class DirectionShaper<P> {
  /** Live counters; read, never write. */
  readonly counters = zeroCounters();
  private readonly x: DirectionImpairment;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly deliver: (packet: P, bytes: number) => boolean;
  /** Gilbert-Elliott chain state. */
  private burstBad = false;
  /** When the rate queue's last packet finishes transmission, ms. */
  private rateFreeAtMs = -Infinity;
  /** Latest departure of the delay line; it keeps order under a rate. */
  private lastDepartureMs = -Infinity;

  constructor(o: ShaperOptions<P>) {
    this.x = o.impairment;
    this.scheduler = o.scheduler;
    this.random = o.random;
    this.deliver = o.deliver;
  }

  /** Takes one datagram of `bytes` payload bytes, arriving in `state`. */
  offer(packet: P, bytes: number, state: LinkState): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += bytes;
    if (state === 'blackhole') {
      c.droppedBlackhole++;
      return;
    }
    if (state !== 'up') {
      c.droppedOutage++;
      return;
    }
    if (this.lost()) {
      c.droppedLoss++;
      return;
    }
    this.admit(packet, bytes);
    if (chance(this.random, this.x.duplicatePercent)) {
      c.duplicated++;
      this.admit(packet, bytes);
    }
  }

  /** Counts a datagram refused before the link (client table full). */
  refuse(bytes: number): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += bytes;
    c.droppedOther++;
  }

  /** Counts a forwarded datagram whose send failed afterwards. */
  countSendError(): void {
    this.counters.sendErrors++;
  }

  private lost(): boolean {
    const burst = this.x.lossBurst;
    if (!burst) return chance(this.random, this.x.lossPercent);
    // Loss by the current state, then the chain moves (netem's order).
    const lossPercent = this.burstBad
      ? burst.badLossPercent
      : burst.goodLossPercent;
    const lost = chance(this.random, lossPercent);
    const flipPercent = this.burstBad
      ? burst.badToGoodPercent
      : burst.goodToBadPercent;
    if (chance(this.random, flipPercent)) this.burstBad = !this.burstBad;
    return lost;
  }

  private admit(packet: P, bytes: number): void {
    const c = this.counters;
    if (c.heldPackets >= this.x.limitPackets) {
      c.droppedLimit++;
      return;
    }
    if (this.x.rateBitsPerSecond === 0) {
      c.heldPackets++;
      this.delayLine(packet, bytes);
      return;
    }
    if (c.queuedBytes + bytes > this.x.rateQueueBytes) {
      c.droppedRateQueue++;
      return;
    }
    c.heldPackets++;
    c.queuedBytes += bytes;
    const bits = (bytes + IP_UDP_OVERHEAD_BYTES) * 8;
    const txMs = (bits * 1000) / this.x.rateBitsPerSecond;
    const startMs = Math.max(this.scheduler.now(), this.rateFreeAtMs);
    this.rateFreeAtMs = startMs + txMs;
    this.scheduler.at(this.rateFreeAtMs, () => {
      c.queuedBytes -= bytes;
      this.delayLine(packet, bytes);
    });
  }

  private delayLine(packet: P, bytes: number): void {
    const { delayMs, jitterMs } = this.x;
    if (delayMs === 0 && jitterMs === 0) {
      this.send(packet, bytes);
      return;
    }
    if (chance(this.random, this.x.reorderPercent)) {
      this.counters.reordered++;
      this.send(packet, bytes);
      return;
    }
    let atMs = this.scheduler.now() + this.sampleDelayMs();
    // Under a rate, jitter does not reorder (netem behaves the same).
    if (this.x.rateBitsPerSecond > 0) {
      atMs = Math.max(atMs, this.lastDepartureMs);
      this.lastDepartureMs = atMs;
    }
    this.scheduler.at(atMs, () => this.send(packet, bytes));
  }

  private sampleDelayMs(): number {
    const { delayMs, jitterMs } = this.x;
    if (jitterMs === 0) return delayMs;
    const spread =
      this.x.jitterDistribution === 'normal'
        ? normalSample(this.random)
        : 2 * this.random() - 1;
    return Math.max(0, delayMs + jitterMs * spread);
  }

  private send(packet: P, bytes: number): void {
    const c = this.counters;
    c.heldPackets--;
    if (!this.deliver(packet, bytes)) {
      c.droppedOther++;
      return;
    }
    c.forwarded++;
    c.bytesForwarded += bytes;
  }
}
