/**
 * Types of impairment profiles: what one direction of a link does to the
 * packets crossing it, and the timed events (outages, flaps, rebinding)
 * that a profile schedules relative to the start of the relay.
 */

/** up = site router to designated router; down = the reverse. */
export type Direction = 'up' | 'down';

/** Directions a timed event applies to. */
export type ScheduleDirection = Direction | 'both';

/**
 * How jitter is drawn. `uniform`: delay ± jitter, evenly spread.
 * `normal`: jitter is the standard deviation around the delay (samples
 * below zero are clamped to zero).
 */
export type JitterDistribution = 'uniform' | 'normal';

/**
 * Bursty loss by the Gilbert-Elliott two-state model (netem's `loss
 * gemodel p r 1-h 1-k`). Each packet first moves the chain, then is lost
 * with the loss probability of the state it is in.
 */
export interface LossBurst {
  /** Chance per packet to move from the good to the bad state (p), %. */
  goodToBadPercent: number;
  /** Chance per packet to move from the bad back to the good state, %. */
  badToGoodPercent: number;
  /** Loss probability in the bad state (1-h), %; default 100. */
  badLossPercent: number;
  /** Loss probability in the good state (1-k), %; default 0. */
  goodLossPercent: number;
}

/** What one direction of the emulated link does; every field resolved. */
export interface DirectionImpairment {
  /** One-way delay added to every packet, ms; default 0. */
  delayMs: number;
  /** Spread of the delay, ms (see {@link JitterDistribution}); default 0. */
  jitterMs: number;
  /** Default `uniform`. */
  jitterDistribution: JitterDistribution;
  /** Independent random loss, %; default 0. */
  lossPercent: number;
  /** Bursty loss instead of `lossPercent`; default none. */
  lossBurst: LossBurst | undefined;
  /** Chance that a packet is sent twice, %; default 0. */
  duplicatePercent: number;
  /**
   * Chance that a packet skips the delay and so overtakes packets sent
   * before it (netem's `reorder`), %; needs `delayMs` > 0; default 0.
   */
  reorderPercent: number;
  /**
   * Link rate in bits per second, counting 28 bytes of IPv4 and UDP
   * header per datagram; 0 = unlimited (default).
   */
  rateBitsPerSecond: number;
  /**
   * Bytes that may wait for the link when a rate is set; arrivals beyond
   * are tail-dropped. Default the larger of 64 KiB and what the rate
   * drains in 200 ms.
   */
  rateQueueBytes: number;
  /**
   * Packets held at once in this direction (rate queue and delay line
   * together); arrivals beyond are tail-dropped. Default 1 000 (netem's).
   */
  limitPackets: number;
}

/** The link is down from `startMs` for `durationMs`. */
export interface OutageEntry {
  kind: 'outage';
  /** Start, ms after the relay starts. */
  startMs: number;
  durationMs: number;
  /** Default both. */
  direction: ScheduleDirection;
}

/**
 * Packets vanish silently from `startMs` for `durationMs`: a route that
 * leads nowhere. The relay treats it like an outage but counts it apart,
 * and it is often one-way (`direction`).
 */
export interface BlackholeEntry {
  kind: 'blackhole';
  startMs: number;
  durationMs: number;
  direction: ScheduleDirection;
}

/**
 * From `startMs` on, the link is down for `downMs` at the start of every
 * `periodMs`.
 */
export interface FlappingEntry {
  kind: 'flapping';
  startMs: number;
  periodMs: number;
  downMs: number;
  direction: ScheduleDirection;
}

/**
 * The relay takes a new upstream source port (NAT rebinding, cellular
 * handover) at `startMs` and every `everyMs` after.
 */
export interface RebindEntry {
  kind: 'rebind';
  startMs: number;
  everyMs: number;
}

/** A timed event of a profile. */
export type ScheduleEntry =
  OutageEntry | BlackholeEntry | FlappingEntry | RebindEntry;

/** A resolved profile: both directions and the schedule. */
export interface Profile {
  /** File name without `.json`, or the path given. */
  name: string;
  description: string;
  up: DirectionImpairment;
  down: DirectionImpairment;
  schedule: ScheduleEntry[];
}

/** Changes to one direction; absent fields keep their value. */
export type DirectionPatch = Partial<Omit<DirectionImpairment, 'lossBurst'>> & {
  lossBurst?: Partial<LossBurst>;
};

/**
 * Caller's changes to a loaded profile. The schedule fields change every
 * entry of their kind, or add one when the profile has none (the length
 * fields are then required; a start defaults to 0, or `rebindEveryMs`).
 */
export interface ProfileOverrides {
  outageStartMs?: number;
  outageMs?: number;
  blackholeStartMs?: number;
  blackholeMs?: number;
  flapStartMs?: number;
  flapPeriodMs?: number;
  flapDownMs?: number;
  rebindStartMs?: number;
  rebindEveryMs?: number;
  /** Applied to both directions, before `up` and `down`. */
  both?: DirectionPatch;
  up?: DirectionPatch;
  down?: DirectionPatch;
}
