/**
 * Delivers one subscription's queue over one agent stream: peek, send,
 * wait for the agent's cumulative ack, then remove. At most a window of
 * unacknowledged messages is in flight; whatever was sent but not acked is
 * sent again when the subscriber comes back.
 */
import type { Logger } from '../common/logger.ts';
import type { Clock } from '../common/clock.ts';
import { errorMessage } from '../common/errors.ts';
import type { DurableQueue } from '../queue/index.ts';
import type { FrameStream } from '../transport/index.ts';
import type { RouterMetrics } from './metrics.ts';

/** Most unacknowledged messages in flight to one subscriber. */
export const DELIVERY_WINDOW_ITEMS = 1024;
/** Most bytes of one `msgs` frame. */
export const DELIVERY_FRAME_BYTES = 1024 * 1024;
/** How often an attached consumer refreshes its queue's idle expiry. */
const TOUCH_INTERVAL_MS = 10_000;

/** Options of {@link runDelivery}. */
export interface DeliveryOptions {
  queue: DurableQueue;
  stream: FrameStream;
  /** The subscriber's grant as last checked. */
  grant: GrantWindow;
  /**
   * Checks the grant again when `grant.recheckAtMs` comes (a revocation
   * may have happened since); rejects naming why it no longer holds.
   */
  renewGrant: () => Promise<GrantWindow>;
  clock: Clock;
  logger: Logger;
  metrics: RouterMetrics;
  signal: AbortSignal;
}

/** How long a subscriber's grant holds, as far as the router knows. */
export interface GrantWindow {
  /** When the grant ends, ms since the epoch. */
  expiresAtMs: number;
  /** When to check it again, ms since the epoch; at most `expiresAtMs`. */
  recheckAtMs: number;
}

/** Why a delivery stopped. */
export type DeliveryEnd =
  | { reason: 'aborted' | 'grant-expired' | 'stream-failed' }
  | { reason: 'grant-refused'; error: unknown };

/** The shared state of a delivery: the ack reader moves `acked`. */
export class DeliveryCursor {
  acked: number;
  private wake: (() => void) | undefined;

  constructor(acked: number) {
    this.acked = acked;
  }

  /** Records a cumulative ack and wakes the sender. */
  advance(seq: number): void {
    if (seq > this.acked) this.acked = seq;
    this.wake?.();
  }

  /** Resolves on the next advance. */
  nextAdvance(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }
}

/** The last sequence number a fresh consumer has already taken. */
export function consumedUpTo(q: DurableQueue): number {
  return q.length > 0 ? q.headSeq - 1 : q.tailSeq;
}

/**
 * Sends queued messages until `signal` aborts or the grant ends (expired,
 * or refused when checked again). Resolves with the reason it stopped;
 * never throws.
 */
export async function runDelivery(
  o: DeliveryOptions,
  cursor: DeliveryCursor,
): Promise<DeliveryEnd> {
  let sent = cursor.acked;
  let lastTouch = 0;
  let grant = o.grant;
  try {
    while (!o.signal.aborted) {
      const now = o.clock.now();
      if (now >= grant.expiresAtMs) return { reason: 'grant-expired' };
      if (now >= grant.recheckAtMs) {
        try {
          grant = await o.renewGrant();
        } catch (error) {
          if (o.signal.aborted) return { reason: 'aborted' };
          return { reason: 'grant-refused', error };
        }
        continue;
      }
      if (now - lastTouch > TOUCH_INTERVAL_MS) {
        o.queue.touch();
        lastTouch = now;
      }
      sent = Math.max(sent, cursor.acked);
      if (sent - cursor.acked < DELIVERY_WINDOW_ITEMS) {
        const items = await o.queue.peek(sent, {
          maxItems: DELIVERY_WINDOW_ITEMS - (sent - cursor.acked),
          maxBytes: DELIVERY_FRAME_BYTES,
        });
        const last = items.at(-1);
        if (last) {
          await o.stream.send({
            t: 'msgs',
            items: items.map((i) => ({ seq: i.seq, m: i.bytes })),
            drops: o.queue.drops,
          });
          o.metrics.delivered.inc(items.length);
          sent = last.seq;
          continue;
        }
      }
      await waitForWork(o, cursor, sent, grant.recheckAtMs);
    }
    return { reason: 'aborted' };
  } catch (err) {
    if (o.signal.aborted) return { reason: 'aborted' };
    o.logger.debug({ err: errorMessage(err) }, 'delivery stream failed');
    return { reason: 'stream-failed' };
  }
}

async function waitForWork(
  o: DeliveryOptions,
  cursor: DeliveryCursor,
  sent: number,
  wakeAtMs: number,
): Promise<void> {
  const local = new AbortController();
  const onAbort = (): void => local.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => local.abort(), TOUCH_INTERVAL_MS);
  timer.unref();
  const untilRecheck = Math.max(0, wakeAtMs - o.clock.now());
  const grantTimer = setTimeout(
    () => local.abort(),
    Math.min(untilRecheck, 2 ** 31 - 1),
  );
  grantTimer.unref();
  try {
    const windowFull = sent - cursor.acked >= DELIVERY_WINDOW_ITEMS;
    await Promise.race([
      cursor.nextAdvance(),
      windowFull
        ? new Promise<void>(() => undefined)
        : o.queue.waitForItems(sent, { signal: local.signal }),
      new Promise<void>((resolve) =>
        local.signal.addEventListener('abort', () => resolve(), { once: true }),
      ),
    ]);
  } catch (err) {
    // waitForItems rejects when our local signal aborts: that is a wake-up.
    if (!local.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    clearTimeout(grantTimer);
    local.abort();
    o.signal.removeEventListener('abort', onAbort);
  }
}
