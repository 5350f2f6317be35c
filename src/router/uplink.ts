/**
 * The link from a site router to the designated router of one namespace.
 * It never gives up: connect, handshake (the far end must hold a valid
 * route proof for the namespace, for the entity whose key its TLS
 * certificate holds), drain the trunk, and on any failure wait a jittered,
 * growing delay and start over. Failures are logged at info when the link
 * goes down and then only at debug, so an unreachable uplink stays quiet.
 */
import type { Logger } from '../common/logger.ts';
import { Backoff, sleep } from '../common/backoff.ts';
import { WavemqError, errorMessage } from '../common/errors.ts';
import type { HostPort } from '../config/index.ts';
import type { Connection, TlsIdentity, Transport } from '../transport/index.ts';
import type { Router } from './router.ts';
import { trunkQueueId } from './queue-ids.ts';
import { openPeerLink, type PeerLink } from './peer-link.ts';
import { TrunkSender } from './trunk-sender.ts';
import { Downlinks } from './downlinks.ts';

/**
 * One attempt's deadline, ms. A handshake (Retry round trip included)
 * takes about 1.3 s at a 600 ms satellite RTT, more with a lost packet;
 * past a few seconds the library's own retransmissions have backed off so
 * far that a fresh attempt reaches a returning link sooner.
 */
const UPLINK_CONNECT_TIMEOUT_MS = 5_000;
/**
 * Attempts right after a link that was up ended get a shorter deadline,
 * derived from the link's measured round trip (see attemptTimeoutMs), so
 * that a short outage is followed by a fresh attempt sooner.
 */
const FAST_ATTEMPTS = 3;
/** The shortest deadline of a fast attempt, ms. */
const FAST_ATTEMPT_MIN_MS = 2_000;
/**
 * Retry delays, ms: jittered, doubling, capped. The cap bounds how long a
 * site waits after its link returns; a probe every 15 s costs a few
 * packets.
 */
const UPLINK_RETRY_MIN_MS = 500;
const UPLINK_RETRY_MAX_MS = 15_000;

/** States of an uplink, as shown by `wavemq status`. */
export type LinkState =
  'connecting' | 'handshaking' | 'draining' | 'up' | 'refused' | 'stopped';

/** Options of {@link Uplink}. */
export interface UplinkOptions {
  ns: string;
  address: HostPort;
  transport: Transport;
  identity: TlsIdentity;
  router: Router;
  logger: Logger;
  /** Time allowed for one connection attempt, ms; default 5_000. */
  connectTimeoutMs?: number;
  backoff?: Backoff;
}

/** One namespace's link to its designated router. */
export class Uplink {
  private state: LinkState = 'connecting';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private attemptCount = 0;
  private connectCount = 0;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private current: { conn: Connection; link: PeerLink } | undefined;
  private sender: TrunkSender | undefined;
  /** Round trip of the last link that was up, ms; 0 when unknown. */
  private lastRttMs = 0;
  /** Fast attempts left (see FAST_ATTEMPTS). */
  private fastLeft = 0;

  constructor(private readonly o: UplinkOptions) {
    this.log = o.logger.child({ component: 'uplink', ns: o.ns });
    this.backoff =
      o.backoff ??
      new Backoff({
        initialMs: UPLINK_RETRY_MIN_MS,
        maxMs: UPLINK_RETRY_MAX_MS,
      });
  }

  get linkState(): LinkState {
    return this.state;
  }

  /** Connection attempts made so far. */
  get attempts(): number {
    return this.attemptCount;
  }

  /** Handshakes that succeeded (the first connect and every reconnect). */
  get connects(): number {
    return this.connectCount;
  }

  /** Trunk messages acked per second, smoothed; 0 when idle. */
  get drainRate(): number {
    return this.sender?.drainRate ?? 0;
  }

  /** The live link to the designated router, if up. */
  get link(): PeerLink | undefined {
    return this.current?.link;
  }

  /** Starts the connect loop; idempotent. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops the loop and waits for it; idempotent. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('uplink stopped'));
    await this.current?.conn.close('router stopping');
    await this.loop;
    this.state = 'stopped';
  }

  private setState(state: LinkState): void {
    this.state = state;
    this.o.router.metrics.uplinkState.set(
      { ns: this.o.ns },
      state === 'up' || state === 'draining' ? 1 : 0,
    );
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let quiet = false;
    while (!signal.aborted) {
      this.attemptCount += 1;
      this.o.router.metrics.uplinkAttempts.inc({ ns: this.o.ns });
      try {
        await this.session(signal);
        quiet = false;
      } catch (err) {
        if (signal.aborted) break;
        quiet = this.report(err, quiet);
      }
      this.setState(this.state === 'refused' ? 'refused' : 'connecting');
      // An abort ends the wait early; the loop condition then stops.
      await sleep(this.backoff.next(), signal).catch(() => signal.aborted);
    }
  }

  private report(err: unknown, quiet: boolean): boolean {
    const code = err instanceof WavemqError ? err.code : undefined;
    const fields = { err: errorMessage(err), code, attempt: this.attemptCount };
    if (code === 'ROUTE_PROOF_INVALID' || code === 'PEER_IDENTITY') {
      // A refused designated router is worth a warning every time.
      this.setState('refused');
      this.o.router.metrics.peerRefusals.inc({ code });
      this.log.warn(fields, 'designated router refused');
      return true;
    }
    if (quiet) this.log.debug(fields, 'uplink attempt failed');
    else this.log.info(fields, 'uplink down, retrying with backoff');
    return true;
  }

  /** One connection: handshake, then drain until the link fails. */
  private async session(signal: AbortSignal): Promise<void> {
    const maxMs = this.o.connectTimeoutMs ?? UPLINK_CONNECT_TIMEOUT_MS;
    const fast = this.fastLeft > 0;
    if (fast) this.fastLeft -= 1;
    const conn = await this.o.transport.connect({
      ...this.o.address,
      identity: this.o.identity,
      timeoutMs: attemptTimeoutMs(fast ? this.lastRttMs : 0, maxMs),
      signal,
    });
    try {
      this.setState('handshaking');
      const link = await openPeerLink(this.o.router, conn, this.o.ns, this.log);
      this.current = { conn, link };
      this.connectCount += 1;
      this.backoff.reset();
      this.log.info(
        {
          designated: link.peerRouter,
          hwm: link.hwm,
          connects: this.connectCount,
        },
        'uplink up',
      );
      const downlinks = new Downlinks(this.o.router, conn, this.o.ns, this.log);
      downlinks.start();
      try {
        await this.drain(link);
      } finally {
        downlinks.stop();
        this.lastRttMs = this.sender?.smoothedRttMs ?? 0;
        this.fastLeft = FAST_ATTEMPTS;
      }
    } finally {
      this.current = undefined;
      await conn.close('uplink session ended');
    }
  }

  private async drain(link: PeerLink): Promise<void> {
    const queue = this.o.router.queues.get(trunkQueueId(this.o.ns));
    if (!queue) throw new Error(`no trunk queue for ${this.o.ns}`);
    const sender = new TrunkSender({
      router: this.o.router,
      link,
      queue,
      ns: this.o.ns,
      log: this.log,
      onState: (draining) => this.setState(draining ? 'draining' : 'up'),
    });
    this.sender = sender;
    await sender.run();
  }
}

/**
 * The deadline of one connection attempt, ms. Without a measured round
 * trip (`rttMs` 0) it is `maxMs`. With one, it is four round trips plus
 * 1.5 s (room for the Retry, the handshake and one retransmission of a
 * lost first packet), between 2 s and `maxMs`: long enough to connect on
 * the link as it was, short enough that the next attempt comes soon when
 * the link has just returned from an outage.
 */
export function attemptTimeoutMs(rttMs: number, maxMs: number): number {
  if (!(rttMs > 0)) return maxMs;
  const ms = 4 * rttMs + 1500;
  return Math.min(maxMs, Math.max(FAST_ATTEMPT_MIN_MS, Math.round(ms)));
}
