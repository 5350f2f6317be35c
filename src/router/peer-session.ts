/**
 * The designated router's side of a site link: check the site's hello
 * (its entity must be the key its TLS certificate holds), present this
 * router's route proof, then take trunk batches. Each batch is verified
 * message by message and appended, with the site's new high-water mark,
 * in one durable write before the cumulative ack goes back; a resend of
 * anything at or below the mark is dropped as a duplicate.
 */
import type { Logger } from '../common/logger.ts';
import { WavemqError, errorMessage } from '../common/errors.ts';
import type { Connection, FrameStream } from '../transport/index.ts';
import {
  PEER_PROTOCOL_VERSION,
  decode,
  parseAgentFrame,
  parseSiteFrame,
  parseWireMessage,
  type SiteFrame,
  type TrunkItem,
  type WireMessage,
} from '../wire/index.ts';
import { PublicEntity } from '../wave/index.ts';
import type { Router } from './router.ts';
import type { RouteProofs } from './designated.ts';
import { errorFrame } from './error-frame.ts';
import { serveSubscription } from './subscription-stream.ts';
import {
  NotDesignatedError,
  ProofNotCachedError,
  PeerIdentityError,
  TrunkMessageError,
  UnexpectedFrameError,
} from './errors.ts';
import { hwmKey, readHwm, encodeHwm } from './hwm.ts';

/** Serves every stream of one site router's connection. */
export function serveSite(
  router: Router,
  conn: Connection,
  proofs: RouteProofs,
): void {
  const log = router.logger.child({ component: 'peer', conn: conn.id });
  let linked: (link: SiteLink) => void = () => undefined;
  const site = new Promise<SiteLink>((resolve) => (linked = resolve));
  conn.onStream((stream) => {
    void serveStream(router, conn, stream, proofs, log, { site, linked })
      .catch(async (err: unknown) => {
        const code = err instanceof WavemqError ? err.code : 'INTERNAL';
        router.metrics.peerRefusals.inc({ code });
        log.warn({ code, err: errorMessage(err) }, 'site link refused');
        await stream.send(errorFrame(err)).catch(() => undefined);
      })
      .finally(() => void stream.close());
  });
}

/** The control stream's handshake, shared with the connection's others. */
interface LinkState {
  site: Promise<SiteLink>;
  linked: (link: SiteLink) => void;
}

interface SiteLink {
  ns: string;
  origin: string;
  hwm: number;
  /**
   * Set after asking the site to resend from a message whose proof or
   * entity is unknown here: batches already in flight are ignored until
   * the site's rewound batch arrives.
   */
  awaitingRewind: boolean;
  stream: FrameStream;
  log: Logger;
}

/** Longest a downlink stream waits for its connection's handshake, ms. */
const HANDSHAKE_WAIT_MS = 30_000;

async function serveStream(
  router: Router,
  conn: Connection,
  stream: FrameStream,
  proofs: RouteProofs,
  log: Logger,
  state: LinkState,
): Promise<void> {
  const frames = stream.frames()[Symbol.asyncIterator]();
  const first = await frames.next();
  if (first.done) return;
  const value = first.value as Record<string, unknown>;
  if (value['t'] === 'sub') {
    return serveDownlink(router, stream, frames, value, state);
  }
  const link = await handshake(router, conn, stream, proofs, value, log);
  state.linked(link);
  for (;;) {
    const next = await frames.next();
    if (next.done) return;
    await handleSiteFrame(router, link, parseSiteFrame(next.value));
  }
}

/** A site registers one of its subscriptions: serve it as a downlink. */
async function serveDownlink(
  router: Router,
  stream: FrameStream,
  frames: AsyncIterator<unknown>,
  value: Record<string, unknown>,
  state: LinkState,
): Promise<void> {
  const frame = parseAgentFrame(value);
  if (frame.t !== 'sub') {
    throw new UnexpectedFrameError('expected sub', { frame: frame.t });
  }
  const timeout = AbortSignal.timeout(HANDSHAKE_WAIT_MS);
  const link = await Promise.race([
    state.site,
    new Promise<never>((_, reject) =>
      timeout.addEventListener('abort', () =>
        reject(
          new UnexpectedFrameError('downlink before handshake', {
            frame: 'sub',
          }),
        ),
      ),
    ),
  ]);
  if (frame.req.ns !== link.ns) {
    throw new NotDesignatedError(
      `downlink for ${frame.req.ns} on a link for ${link.ns}`,
      { ns: frame.req.ns },
    );
  }
  await serveSubscription(
    router,
    stream,
    frames,
    frame.req,
    link.log,
    link.origin,
  );
}

async function handshake(
  router: Router,
  conn: Connection,
  stream: FrameStream,
  proofs: RouteProofs,
  value: unknown,
  log: Logger,
): Promise<SiteLink> {
  const hello = parseSiteFrame(value);
  if (hello.t !== 'phello') {
    throw new UnexpectedFrameError('a site link starts with phello', {
      frame: hello.t,
    });
  }
  const proof = proofs.get(hello.ns);
  if (!proof) {
    throw new NotDesignatedError(
      `this router is not the designated router of ${hello.ns}`,
      { ns: hello.ns },
    );
  }
  const site = PublicEntity.decode(hello.entity);
  const key = conn.peerPublicKey;
  if (!key || !Buffer.from(key).equals(Buffer.from(site.signingKey))) {
    throw new PeerIdentityError(
      `site ${hello.router} presented entity ${site.hash}, which is not ` +
        'the key of its TLS certificate',
      { peer: hello.router },
    );
  }
  const hwm = await readHwm(router.queues, hello.router, hello.ns);
  await stream.send({
    t: 'pwelcome',
    v: PEER_PROTOCOL_VERSION,
    router: router.id,
    entity: router.entity.publicEntity.bytes,
    proof: proof.bytes,
    hwm,
  });
  const slog = log.child({ ns: hello.ns, site: hello.router });
  slog.info({ entity: site.hash, hwm }, 'site link up');
  return {
    ns: hello.ns,
    origin: hello.router,
    hwm,
    awaitingRewind: false,
    stream,
    log: slog,
  };
}

async function handleSiteFrame(
  router: Router,
  link: SiteLink,
  frame: SiteFrame,
): Promise<void> {
  switch (frame.t) {
    case 'tbatch':
      if (link.awaitingRewind && !frame.rewind) return;
      link.awaitingRewind = false;
      return receiveBatch(router, link, frame.items);
    case 'pquery': {
      try {
        await router.authorizer.admitRequest(frame.req);
        const msgs = await router.queryLocal(frame.req.ns, frame.req.pattern);
        await link.stream.send({ t: 'pqres', id: frame.id, msgs });
      } catch (err) {
        router.countRejection(err, link.log);
        await link.stream.send(errorFrame(err, frame.id));
      }
      return;
    }
    case 'phello':
      throw new UnexpectedFrameError('phello sent twice', { frame: 'phello' });
  }
}

/** Verifies, stores and acks one batch; refused messages are skipped. */
async function receiveBatch(
  router: Router,
  link: SiteLink,
  items: TrunkItem[],
): Promise<void> {
  const admitted: { m: WireMessage; bytes: Uint8Array }[] = [];
  let top = link.hwm;
  for (const item of items) {
    if (item.seq <= top) {
      router.metrics.trunkDuplicates.inc();
      continue;
    }
    try {
      admitted.push(await admitTrunkItem(router, link, item));
      top = item.seq;
    } catch (err) {
      if (err instanceof ProofNotCachedError) {
        // Store what came before, then have the site resend from here
        // with its proofs and entities in full.
        link.awaitingRewind = true;
        await commit(router, link, admitted, top);
        await link.stream.send({ t: 'tneed', seq: item.seq });
        return;
      }
      top = item.seq;
      router.countRejection(err, link.log);
      const code = err instanceof WavemqError ? err.code : 'INTERNAL';
      await link.stream.send({
        t: 'treject',
        seq: item.seq,
        code,
        message: errorMessage(err),
      });
    }
  }
  await commit(router, link, admitted, top);
}

/** Appends `admitted` with the new mark `top` in one write, then acks. */
async function commit(
  router: Router,
  link: SiteLink,
  admitted: { m: WireMessage; bytes: Uint8Array }[],
  top: number,
): Promise<void> {
  if (top > link.hwm) {
    const mark = { key: hwmKey(link.origin, link.ns), value: encodeHwm(top) };
    await router.route(admitted, { from: 'peer', marks: [mark] });
    link.hwm = top;
    router.metrics.trunkReceived.inc(admitted.length);
  }
  await link.stream.send({ t: 'tack', seq: link.hwm });
}

async function admitTrunkItem(
  router: Router,
  link: SiteLink,
  item: TrunkItem,
): Promise<{ m: WireMessage; bytes: Uint8Array }> {
  const m = parseWireMessage(decode(item.m));
  if (m.ns !== link.ns || m.origin !== link.origin) {
    throw new TrunkMessageError(
      `trunk message ${item.seq} is not from ${link.origin} in ${link.ns}`,
      { field: m.ns !== link.ns ? 'ns' : 'origin' },
    );
  }
  await router.authorizer.admitMessage({
    ...m,
    ...(item.proof ? { proof: item.proof } : {}),
    ...(item.entity ? { entity: item.entity } : {}),
  });
  return { m, bytes: item.m };
}
