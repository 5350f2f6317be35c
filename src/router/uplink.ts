/**
 * The link from a site router to the designated router of one namespace.
 * It keeps trying to connect with jittered exponential backoff and never
 * gives up; failures are logged once at info when the link goes down and
 * then only at debug, so an unreachable uplink stays quiet.
 *
 * Not built yet: the peer handshake (route-proof check) and draining the
 * trunk queue. Until then a connection that succeeds is closed again and
 * the trunk queue only fills; the link state stays `connecting`.
 */
import type { Logger } from '../common/logger.ts';
import { Backoff, sleep } from '../common/backoff.ts';
import { errorMessage } from '../common/errors.ts';
import type { HostPort } from '../config/index.ts';
import type { Transport } from '../transport/index.ts';
import type { RouterMetrics } from './metrics.ts';

/** States of an uplink, as shown by `wavemq status`. */
export type LinkState = 'connecting' | 'up' | 'stopped';

/** Options of {@link Uplink}. */
export interface UplinkOptions {
  ns: string;
  address: HostPort;
  transport: Transport;
  logger: Logger;
  metrics: RouterMetrics;
  /** Time allowed for one connection attempt, ms; default 10_000. */
  connectTimeoutMs?: number;
  backoff?: Backoff;
}

/** One namespace's link to its designated router. */
export class Uplink {
  private state: LinkState = 'connecting';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private attemptCount = 0;
  private readonly log: Logger;
  private readonly backoff: Backoff;

  constructor(private readonly o: UplinkOptions) {
    this.log = o.logger.child({ component: 'uplink', ns: o.ns });
    this.backoff = o.backoff ?? new Backoff({ initialMs: 1000, maxMs: 60_000 });
  }

  get linkState(): LinkState {
    return this.state;
  }

  /** Connection attempts made so far. */
  get attempts(): number {
    return this.attemptCount;
  }

  /** Starts the connect loop; idempotent. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops the loop and waits for it; idempotent. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('uplink stopped'));
    await this.loop;
    this.state = 'stopped';
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let quiet = false;
    while (!signal.aborted) {
      this.attemptCount += 1;
      this.o.metrics.uplinkAttempts.inc({ ns: this.o.ns });
      try {
        const conn = await this.o.transport.connect({
          ...this.o.address,
          timeoutMs: this.o.connectTimeoutMs ?? 10_000,
          signal,
        });
        this.log.debug({ addr: this.o.address }, 'designated router reachable');
        await conn.close('peer protocol not available');
      } catch (err) {
        if (signal.aborted) break;
        const fields = { err: errorMessage(err), attempt: this.attemptCount };
        if (quiet) this.log.debug(fields, 'uplink connect failed');
        else this.log.info(fields, 'uplink down, retrying with backoff');
        quiet = true;
      }
      // An abort ends the wait early; the loop condition then stops.
      await sleep(this.backoff.next(), signal).catch(() => signal.aborted);
    }
  }
}
