/**
 * One subscription stream: admit the signed request, create or resume the
 * queue, then deliver it while reading the agent's acks on the same
 * stream. Acks are written to the queue one at a time, always with the
 * newest sequence number seen, so a fast subscriber costs few writes.
 */
import type { Logger } from '../common/logger.ts';
import { errorMessage, type WavemqError } from '../common/errors.ts';
import type { DurableQueue } from '../queue/index.ts';
import type { FrameStream } from '../transport/index.ts';
import {
  FrameFieldError,
  FrameTooLargeError,
  MalformedFrameError,
  parseAgentFrame,
  type WireRequest,
} from '../wire/index.ts';
import type { Router } from './router.ts';
import { errorFrame } from './error-frame.ts';
import {
  DeliveryCursor,
  consumedUpTo,
  runDelivery,
  type DeliveryOptions,
  type GrantWindow,
} from './delivery.ts';
import {
  BadRequestError,
  SubscriptionEndedError,
  UnexpectedFrameError,
} from './errors.ts';

/**
 * Serves a stream whose first frame was `sub`: an agent's subscription,
 * or, with `recipient`, a site router registering a downlink for one of
 * its subscriptions.
 */
export async function serveSubscription(
  router: Router,
  stream: FrameStream,
  frames: AsyncIterator<unknown>,
  req: WireRequest,
  log: Logger,
  recipient?: string,
): Promise<void> {
  // Checked now, and again whenever the answer runs out.
  const renewGrant = (): Promise<GrantWindow> =>
    router.authorizer.admitRequest(req);
  let grant: GrantWindow;
  try {
    if (req.kind !== 'subscribe') {
      throw new BadRequestError("a 'sub' frame needs a subscribe request", {
        field: 'req.kind',
      });
    }
    grant = await renewGrant();
  } catch (err) {
    router.countRejection(err, log);
    await stream.send(errorFrame(err));
    return;
  }
  const { queue, resumed } = await router.subscriptions.open(
    req,
    grant.expiresAtMs,
    recipient,
  );
  const ctl = router.subscriptions.attach(queue.id);
  const slog = log.child({ queue: queue.id });
  slog.debug({ resumed, backlog: queue.length }, 'subscriber attached');
  try {
    await stream.send({
      t: 'subok',
      sub: queue.id,
      resumed,
      backlog: queue.length,
    });
    await deliverAndRead(router, stream, frames, queue, ctl, slog, {
      grant,
      renewGrant,
    });
  } finally {
    router.subscriptions.detach(queue.id, ctl);
  }
}

async function deliverAndRead(
  router: Router,
  stream: FrameStream,
  frames: AsyncIterator<unknown>,
  queue: DurableQueue,
  ctl: AbortController,
  log: Logger,
  grants: Pick<DeliveryOptions, 'grant' | 'renewGrant'>,
): Promise<void> {
  const cursor = new DeliveryCursor(consumedUpTo(queue));
  const acks = new AckWriter(queue, log);
  const delivery = runDelivery(
    {
      queue,
      stream,
      ...grants,
      clock: router.clock,
      logger: log,
      metrics: router.metrics,
      signal: ctl.signal,
    },
    cursor,
  );
  const ended = delivery.then(async (end) => {
    if (end.reason === 'grant-refused') {
      // Checked again and refused: revoked, or no longer provable.
      router.countRejection(end.error, log);
      await stream.send(errorFrame(end.error)).catch(() => undefined);
    } else if (end.reason === 'grant-expired') {
      await stream
        .send(
          errorFrame(
            new SubscriptionEndedError(
              `the grant for subscription ${queue.id} has expired`,
              { subscription: queue.id },
            ),
          ),
        )
        .catch(() => undefined);
    } else if (ctl.signal.aborted) {
      const reason = errorMessage(ctl.signal.reason);
      await stream
        .send(
          errorFrame(
            new SubscriptionEndedError(
              `subscription ${queue.id} ended: ${reason}`,
              { subscription: queue.id },
            ),
          ),
        )
        .catch(() => undefined);
    }
    // Ending the stream also ends the ack reader below.
    await stream.close();
  });
  try {
    await readAcks(router, stream, frames, queue, cursor, acks);
  } catch (err) {
    if (isBadInput(err)) {
      // A bad frame from the subscriber: say so, count it, end the stream.
      router.metrics.badFrames.inc({ code: err.code });
      await stream.send(errorFrame(err)).catch(() => undefined);
    }
    log.debug({ err: errorMessage(err) }, 'subscription stream failed');
  } finally {
    ctl.abort(new Error('subscriber left'));
    await ended;
    await acks.flush();
  }
}

async function readAcks(
  router: Router,
  stream: FrameStream,
  frames: AsyncIterator<unknown>,
  queue: DurableQueue,
  cursor: DeliveryCursor,
  acks: AckWriter,
): Promise<void> {
  for (;;) {
    const next = await frames.next();
    if (next.done) return;
    const frame = parseAgentFrame(next.value);
    if (frame.t === 'ack') {
      cursor.advance(frame.seq);
      acks.ack(frame.seq);
    } else if (frame.t === 'close') {
      await acks.flush();
      if (frame.unsubscribe) await router.subscriptions.remove(queue.id);
      const reason = frame.unsubscribe ? 'unsubscribed' : 'closed';
      await stream.send({ t: 'closed', acked: cursor.acked, reason });
      return;
    } else {
      throw new UnexpectedFrameError(
        `frame '${frame.t}' is not allowed on a subscription stream`,
        { frame: frame.t },
      );
    }
  }
}

/** Errors that mean the subscriber sent something wrong. */
function isBadInput(err: unknown): err is WavemqError {
  return (
    err instanceof FrameFieldError ||
    err instanceof UnexpectedFrameError ||
    err instanceof MalformedFrameError ||
    err instanceof FrameTooLargeError
  );
}

/** Writes cumulative acks to the queue, coalescing while one is pending. */
class AckWriter {
  private wanted = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly queue: DurableQueue,
    private readonly log: Logger,
  ) {}

  ack(seq: number): void {
    if (seq > this.wanted) this.wanted = seq;
    this.writing ??= this.drain();
  }

  /** Resolves once every ack received so far is durable. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    let done = 0;
    try {
      while (done < this.wanted) {
        done = this.wanted;
        await this.queue.ack(done);
      }
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'ack write failed');
    } finally {
      this.writing = undefined;
    }
  }
}
