/**
 * Batches an agent's publishes: calls made in the same tick become one
 * `pub` frame, signed once as a Merkle batch. The full proof and the
 * agent's public entity go with the first message that uses them on this
 * connection, and again if the router says it lost them.
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
import { RouterRefusedError } from './errors.ts';

/** Most messages one batch (one frame) carries. */
export const MAX_BATCH_MESSAGES = 1024;

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

/** What a {@link Publisher} needs from its agent. */
export interface PublisherOptions {
  entity: Entity;
  namespace: string;
  routerId: string;
  session: string;
  control: ControlChannel;
  proofFor: (p: Permission) => Proof;
}

/** Coalesces, signs and sends publishes. */
export class Publisher {
  private seq = 0;
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly sentObjects = new Set<string>();
  /** Proofs used on this connection, to resend in full on a miss. */
  private readonly proofs = new Map<string, Uint8Array>();

  constructor(private readonly o: PublisherOptions) {}

  /** Queues one publish for the next batch; resolves when stored. */
  publish(input: PublishInput): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH_MESSAGES);
      void this.sendBatch(batch);
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    try {
      const msgs = this.sign(batch.map((p) => p.input));
      try {
        await this.o.control.request({ t: 'pub', msgs });
      } catch (err) {
        if (!isNotCached(err)) throw err;
        // The router lost a proof or entity: send them in full, once.
        this.sentObjects.clear();
        await this.o.control.request({
          t: 'pub',
          msgs: msgs.map((m) => this.attach(m)),
        });
      }
      for (const p of batch) p.resolve();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const p of batch) p.reject(e);
    }
  }

  private sign(inputs: PublishInput[]): WireMessage[] {
    const now = Date.now();
    const unsigned = inputs.map((input) => {
      const proof = input.proof ?? this.o.proofFor('publish');
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
    return unsigned.map((u, i) => {
      const m: WireMessage = {
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
      };
      return this.firstUse(m, u.proof);
    });
  }

  private firstUse(m: WireMessage, proof: Proof): WireMessage {
    this.proofs.set(proof.hash, proof.bytes);
    if (!this.sentObjects.has(proof.hash)) {
      this.sentObjects.add(proof.hash);
      m.proof = proof.bytes;
    }
    if (!this.sentObjects.has(m.publisher)) {
      this.sentObjects.add(m.publisher);
      m.entity = this.o.entity.publicEntity.bytes;
    }
    return m;
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
