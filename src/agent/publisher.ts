/**
 * Batches an agent's publishes: calls made in the same tick become one
 * `pub` frame, signed once as a Merkle batch. The full proof and the
 * agent's public entity go with the first message that uses them on each
 * connection, and again if the router says it lost them.
 *
 * Numbering: one publisher session per Publisher (so per Agent), numbered
 * 1, 2, 3, ... for as long as it lives. A signed batch stays held until
 * the router acknowledges its durable append. When holding is on and the
 * connection drops, held batches are sent again on the next connection,
 * unchanged (same session, numbers and signatures: the router drops
 * exact resends as duplicates), in their first order and before anything
 * newer. With holding off, a batch whose connection fails is rejected.
 */
import type { NamespaceId } from '../common/ids.ts';
import {
  Entity,
  Proof,
  messageDigest,
  signDigests,
  type Permission,
} from '../wave/index.ts';
import type { PayloadObject, WireMessage } from '../wire/index.ts';
import type { ControlChannel } from './control.ts';
import {
  PublishBacklogFullError,
  RouterRefusedError,
  isLinkFailure,
} from './errors.ts';

/** Most messages one batch (one frame) carries. */
export const MAX_BATCH_MESSAGES = 1024;

/**
 * Most publishes that may wait while the agent is reconnecting (held for
 * resending, or made since). Overflow policy: a new publish is rejected
 * with PublishBacklogFullError; nothing already accepted is dropped.
 */
export const MAX_WAITING_PUBLISHES = 10_000;

/** One publish call, before signing. */
export interface PublishInput {
  uri: string;
  payloads: PayloadObject[];
  persist: boolean;
  proof?: Proof;
}

interface Pending {
  input: PublishInput;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Signed messages (without proof or entity) and their callers. */
interface Batch {
  msgs: WireMessage[];
  callers: Pending[];
  settled: boolean;
}

/** What a {@link Publisher} needs from its agent. */
export interface PublisherOptions {
  entity: Entity;
  namespace: string;
  routerId: string;
  session: string;
  proofFor: (p: Permission) => Proof;
  /** Keep batches across connection failures (reconnecting on). */
  hold: boolean;
}

/** Coalesces, signs, sends and (when holding) resends publishes. */
export class Publisher {
  private seq = 0;
  private queue: Pending[] = [];
  private scheduled = false;
  /** Signed, not yet acknowledged, in signing order. */
  private readonly held: Batch[] = [];
  private heldMessages = 0;
  private control: ControlChannel | undefined;
  /** Objects sent in full on `control` (the current connection). */
  private sent = new Set<string>();
  /** Proofs used, to resend in full on a miss or a new connection. */
  private readonly proofs = new Map<string, Uint8Array>();
  private failure: Error | undefined;

  constructor(private readonly o: PublisherOptions) {}

  /**
   * Queues one publish for the next batch; resolves when stored.
   * @throws PublishBacklogFullError while reconnecting with
   *   MAX_WAITING_PUBLISHES waiting; the agent's close reason after it
   *   closed (holding on).
   */
  publish(input: PublishInput): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const waiting = this.heldMessages + this.queue.length;
    if (this.o.hold && !this.control && waiting >= MAX_WAITING_PUBLISHES) {
      return Promise.reject(
        new PublishBacklogFullError(
          `${waiting} publishes are waiting for the router to come back; ` +
            `the most is ${MAX_WAITING_PUBLISHES}`,
          { waiting, max: MAX_WAITING_PUBLISHES },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * A new connection: held batches go first, in order, then new ones.
   * Nothing was sent in full on it yet.
   */
  connected(control: ControlChannel): void {
    this.control = control;
    this.sent = new Set();
    for (const b of this.held) void this.send(b, control);
  }

  /** The connection dropped: hold everything until the next one. */
  disconnected(): void {
    this.control = undefined;
  }

  /** The agent closed: reject everything waiting, and later calls. */
  fail(err: Error): void {
    this.failure ??= err;
    this.control = undefined;
    for (const b of this.held.splice(0)) this.settle(b, err);
    this.heldMessages = 0;
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const callers = this.queue.splice(0, MAX_BATCH_MESSAGES);
      let msgs: WireMessage[];
      try {
        msgs = this.sign(callers.map((p) => p.input));
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        for (const p of callers) p.reject(e);
        continue;
      }
      const batch: Batch = { msgs, callers, settled: false };
      this.held.push(batch);
      this.heldMessages += msgs.length;
      if (this.control) void this.send(batch, this.control);
    }
  }

  private async send(batch: Batch, control: ControlChannel): Promise<void> {
    try {
      try {
        await control.request({
          t: 'pub',
          msgs: this.withObjects(batch, control),
        });
      } catch (err) {
        if (!isNotCached(err)) throw err;
        // The router lost a proof or entity: send them in full, once.
        if (control === this.control) this.sent.clear();
        await control.request({
          t: 'pub',
          msgs: batch.msgs.map((m) => this.attach(m)),
        });
      }
      this.settle(batch);
    } catch (err) {
      // Held: the next connection sends it again (or close() rejects it).
      if (this.o.hold && isLinkFailure(err) && !this.failure) return;
      this.settle(batch, err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Resolves or rejects a batch's callers once, and stops holding it. */
  private settle(batch: Batch, err?: Error): void {
    if (batch.settled) return;
    batch.settled = true;
    const i = this.held.indexOf(batch);
    if (i >= 0) {
      this.held.splice(i, 1);
      this.heldMessages -= batch.msgs.length;
    }
    for (const p of batch.callers) {
      if (err) p.reject(err);
      else p.resolve();
    }
  }

  private sign(inputs: PublishInput[]): WireMessage[] {
    const now = Date.now();
    const unsigned = inputs.map((input) => {
      const proof = input.proof ?? this.o.proofFor('publish');
      this.proofs.set(proof.hash, proof.bytes);
      this.seq += 1;
      return { input, proof, seq: this.seq };
    });
    const digests = unsigned.map((u) =>
      messageDigest({
        namespace: this.o.namespace as NamespaceId,
        uri: u.input.uri,
        payloads: u.input.payloads,
        publisher: this.o.entity.hash,
        originRouter: this.o.routerId,
        sessionId: this.o.session,
        seq: u.seq,
        publishedAtMs: now,
        persist: u.input.persist,
        proofHash: u.proof.hash,
      }),
    );
    const sigs = signDigests(this.o.entity, digests);
    return unsigned.map((u, i) => ({
      ns: this.o.namespace,
      uri: u.input.uri,
      payloads: u.input.payloads,
      publisher: this.o.entity.hash,
      origin: this.o.routerId,
      session: this.o.session,
      seq: u.seq,
      ts: now,
      persist: u.input.persist,
      proofHash: u.proof.hash,
      sig: sigs[i] as WireMessage['sig'],
    }));
  }

  /**
   * The batch as sent on `control`: proof and entity in full on their
   * first use on it; everything in full on a connection no longer current.
   */
  private withObjects(batch: Batch, control: ControlChannel): WireMessage[] {
    if (control !== this.control) return batch.msgs.map((m) => this.attach(m));
    return batch.msgs.map((bare) => {
      const m = { ...bare };
      if (!this.sent.has(m.proofHash)) {
        this.sent.add(m.proofHash);
        const proof = this.proofs.get(m.proofHash);
        if (proof) m.proof = proof;
      }
      if (!this.sent.has(m.publisher)) {
        this.sent.add(m.publisher);
        m.entity = this.o.entity.publicEntity.bytes;
      }
      return m;
    });
  }

  private attach(m: WireMessage): WireMessage {
    const proof = this.proofs.get(m.proofHash);
    return {
      ...m,
      ...(proof ? { proof } : {}),
      entity: this.o.entity.publicEntity.bytes,
    };
  }
}

function isNotCached(err: unknown): boolean {
  return (
    err instanceof RouterRefusedError &&
    err.data.routerCode === 'PROOF_NOT_CACHED'
  );
}
