/**
 * A site router's control stream to its designated router: the hello
 * exchange with its checks, then a reader that hands acks, rejections and
 * query answers to whoever waits for them.
 */
import type { Logger } from '../common/logger.ts';
import { errorMessage } from '../common/errors.ts';
import type { Connection, FrameStream } from '../transport/index.ts';
import {
  PEER_PROTOCOL_VERSION,
  parseDesignatedFrame,
  type DesignatedFrame,
  type WireRequest,
} from '../wire/index.ts';
import { PublicEntity, Proof } from '../wave/index.ts';
import type { Router } from './router.ts';
import { checkRouteProof } from './designated.ts';
import { PeerIdentityError, UnexpectedFrameError } from './errors.ts';

/** Longest wait for the designated router's welcome, ms. */
const WELCOME_TIMEOUT_MS = 20_000;

type Waiter = {
  resolve: (f: DesignatedFrame) => void;
  reject: (e: Error) => void;
};

/** An established, checked link to a designated router. */
export class PeerLink {
  private readonly queries = new Map<number, Waiter>();
  private nextQueryId = 1;
  private ackListener: ((seq: number) => void) | undefined;
  private needListener: ((seq: number) => void) | undefined;
  private failure: Error | undefined;
  /** Resolves when the link's stream has ended, for whatever reason. */
  readonly ended: Promise<void>;

  constructor(
    readonly stream: FrameStream,
    private readonly frames: AsyncIterator<unknown>,
    readonly peerRouter: string,
    readonly hwm: number,
    private readonly ns: string,
    private readonly router: Router,
    private readonly log: Logger,
  ) {
    this.ended = this.read();
  }

  /** Why the link ended, once it has. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Sets who hears cumulative trunk acks. */
  onAck(listener: (seq: number) => void): void {
    this.ackListener = listener;
  }

  /** Sets who hears requests to resend with proofs in full. */
  onNeed(listener: (seq: number) => void): void {
    this.needListener = listener;
  }

  /** Forwards a signed query; resolves with the stored messages. */
  async query(req: WireRequest, timeoutMs: number): Promise<Uint8Array[]> {
    if (this.failure) throw this.failure;
    const id = this.nextQueryId++;
    const answer = new Promise<DesignatedFrame>((resolve, reject) => {
      this.queries.set(id, { resolve, reject });
    });
    await this.stream.send({ t: 'pquery', id, req });
    const timer = new Promise<never>((_, reject) => {
      const h = setTimeout(
        () => reject(new Error('query timed out')),
        timeoutMs,
      );
      h.unref();
    });
    const f = await Promise.race([answer, timer]).finally(() => {
      this.queries.delete(id);
    });
    if (f.t === 'pqres') return f.msgs;
    throw new Error(f.t === 'err' ? f.message : `unexpected ${f.t}`);
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const next = await this.frames.next();
        if (next.done) break;
        this.dispatch(parseDesignatedFrame(next.value));
      }
      this.failure = new Error('designated router closed the link');
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(errorMessage(err));
    }
    for (const w of this.queries.values()) w.reject(this.failure);
    this.queries.clear();
  }

  private dispatch(f: DesignatedFrame): void {
    switch (f.t) {
      case 'tack':
        this.ackListener?.(f.seq);
        return;
      case 'tneed':
        this.needListener?.(f.seq);
        return;
      case 'treject':
        this.router.metrics.trunkRejected.inc({ ns: this.ns });
        this.log.warn(
          { seq: f.seq, code: f.code, err: f.message },
          'designated router refused a trunk message',
        );
        return;
      case 'pqres':
      case 'err': {
        const w = f.id === undefined ? undefined : this.queries.get(f.id);
        if (w) w.resolve(f);
        else if (f.t === 'err')
          throw new Error(`designated router: ${f.message}`);
        return;
      }
      case 'pwelcome':
        throw new UnexpectedFrameError('pwelcome sent twice', { frame: f.t });
    }
  }
}

/**
 * Opens the control stream, says hello, and checks the answer: the
 * entity must own the link's TLS key and hold a route proof for `ns`.
 * @throws PeerIdentityError or RouteProofError when the far end is not
 *   a designated router for `ns`.
 */
export async function openPeerLink(
  router: Router,
  conn: Connection,
  ns: string,
  log: Logger,
): Promise<PeerLink> {
  const stream = await conn.openStream();
  const frames = stream.frames()[Symbol.asyncIterator]();
  await stream.send({
    t: 'phello',
    v: PEER_PROTOCOL_VERSION,
    ns,
    router: router.id,
    entity: router.entity.publicEntity.bytes,
  });
  const timeout = AbortSignal.timeout(WELCOME_TIMEOUT_MS);
  const first = await Promise.race([
    frames.next(),
    new Promise<never>((_, reject) =>
      timeout.addEventListener('abort', () =>
        reject(new Error('no welcome from designated router')),
      ),
    ),
  ]);
  if (first.done) throw new Error('designated router closed the link');
  const w = parseDesignatedFrame(first.value);
  if (w.t === 'err') throw new Error(`designated router refused: ${w.message}`);
  if (w.t !== 'pwelcome') {
    throw new UnexpectedFrameError('expected pwelcome', { frame: w.t });
  }
  const dr = PublicEntity.decode(w.entity);
  const key = conn.peerPublicKey;
  if (!key || !Buffer.from(key).equals(Buffer.from(dr.signingKey))) {
    throw new PeerIdentityError(
      `designated router ${w.router} claims entity ${dr.hash}, which is not ` +
        'the key of its TLS certificate',
      { peer: w.router },
    );
  }
  const proof = Proof.decode(w.proof);
  await checkRouteProof(
    proof,
    ns,
    dr.hash,
    router.verifier,
    `designated router ${w.router}`,
  );
  return new PeerLink(stream, frames, w.router, w.hwm, ns, router, log);
}
