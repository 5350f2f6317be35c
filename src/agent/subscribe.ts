/**
 * Opening a subscription stream: send the signed `sub` request on a new
 * stream and wait for the router's `subok`. When the agent reconnects by
 * itself, a link failure on the way waits for the next connection and
 * tries again there; a refusal is final.
 */
import type { WireRequest } from '../wire/index.ts';
import { refusal } from './control.ts';
import { AgentDisconnectedError, isLinkFailure } from './errors.ts';
import type { RouterConnection, RouterLink } from './link.ts';
import type { Attachment } from './subscription.ts';

/**
 * Subscribes with `req` on a connection newer than `o.after` (0: the
 * current one), trying again on the next connection after a link failure
 * when `retry` is set.
 * @throws RouterRefusedError when refused; why the agent closed; the
 *   signal's reason.
 */
export async function openSubscription(
  link: RouterLink,
  req: WireRequest,
  retry: boolean,
  o: { after: number; signal?: AbortSignal | undefined },
): Promise<Attachment> {
  let after = o.after;
  for (;;) {
    const c = await link.ready({
      after,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    try {
      return await attachOn(c, req, retry);
    } catch (err) {
      if (!retry || !isLinkFailure(err)) throw err;
      after = c.epoch;
    }
  }
}

async function attachOn(
  c: RouterConnection,
  req: WireRequest,
  retry: boolean,
): Promise<Attachment> {
  const stream = await c.conn.openStream();
  try {
    const frames = stream.frames()[Symbol.asyncIterator]();
    await stream.send({ t: 'sub', req });
    const first = await frames.next();
    if (first.done && retry) {
      throw new AgentDisconnectedError(
        'subscription stream ended before the router answered',
        { pending: 0 },
      );
    }
    const ok = (
      first.done ? { t: 'err', message: 'stream ended' } : first.value
    ) as Record<string, unknown>;
    if (ok['t'] !== 'subok') throw refusal(ok);
    return { stream, frames, ok, epoch: c.epoch };
  } catch (err) {
    await stream.close();
    throw err;
  }
}
