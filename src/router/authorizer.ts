/**
 * Checks every message and request an agent or peer sends: the signer's
 * entity, the signature, and a proof that grants the permission on the
 * resource. Proofs and entities travel in full the first time a link uses
 * them and by hash afterwards; this module resolves hashes from a bounded
 * cache, then from the data store, and asks for the full object on a miss.
 */
import { LruMap } from '../common/lru.ts';
import type { EntityHash, NamespaceId } from '../common/ids.ts';
import type { WireMessage, WireRequest } from '../wire/index.ts';
import {
  Proof,
  PublicEntity,
  SignatureVerifier,
  Verifier,
  messageDigest,
  requestDigest,
  validatePattern,
  validateUri,
  type Permission,
} from '../wave/index.ts';
import type { PersistStore } from './persist-store.ts';
import {
  BadRequestError,
  BadSignatureError,
  ProofNotCachedError,
} from './errors.ts';

/** What an admitted message or request was granted. */
export interface Grant {
  /** When the proof stops covering the request, ms since the epoch. */
  expiresAtMs: number;
  /**
   * When the grant must be checked again (revocation), ms since the epoch;
   * at most `expiresAtMs`.
   */
  recheckAtMs: number;
  proof: Proof;
  entity: PublicEntity;
}

/** Options of {@link Authorizer}. */
export interface AuthorizerOptions {
  verifier: Verifier;
  store: PersistStore;
  /** Decoded proofs and entities kept in memory; default 4096 each. */
  maxCachedObjects?: number;
}

/** Verifies signatures and proofs of messages and requests. */
export class Authorizer {
  private readonly proofs: LruMap<string, Proof>;
  private readonly entities: LruMap<string, PublicEntity>;
  private readonly signatures = new SignatureVerifier();

  constructor(private readonly o: AuthorizerOptions) {
    const max = o.maxCachedObjects ?? 4096;
    this.proofs = new LruMap(max);
    this.entities = new LruMap(max);
  }

  /** Admits a message for publishing; throws a leaf error naming why not. */
  async admitMessage(m: WireMessage): Promise<Grant> {
    validateUri(m.uri);
    const entity = await this.entity(m.publisher, m.entity);
    const proof = await this.proof(m.proofHash, m.proof);
    const digest = messageDigest({
      namespace: m.ns as NamespaceId,
      uri: m.uri,
      payloads: m.payloads,
      publisher: m.publisher as EntityHash,
      originRouter: m.origin,
      sessionId: m.session,
      seq: m.seq,
      publishedAtMs: m.ts,
      persist: m.persist,
      proofHash: m.proofHash as EntityHash,
    });
    if (!this.signatures.verify(digest, m.sig, entity.signingKey)) {
      throw new BadSignatureError(
        `message signature on ${m.uri} does not verify for ${m.publisher}`,
        { what: 'message' },
      );
    }
    return this.check(proof, entity, m.ns, 'publish', m.uri);
  }

  /** Admits a subscribe or query request; throws naming why not. */
  async admitRequest(r: WireRequest): Promise<Grant> {
    validatePattern(r.pattern);
    const entity = await this.entity(r.requester, r.entity);
    const proof = await this.proof(r.proofHash, r.proof);
    if (!entity.verify(requestDigest(r), r.sig)) {
      throw new BadSignatureError(
        `${r.kind} request signature does not verify for ${r.requester}`,
        { what: r.kind },
      );
    }
    return this.check(proof, entity, r.ns, r.kind, r.pattern);
  }

  private async check(
    proof: Proof,
    entity: PublicEntity,
    ns: string,
    permission: Permission,
    resource: string,
  ): Promise<Grant> {
    const { expiresAtMs, recheckAtMs } = await this.o.verifier.verify(proof, {
      subject: entity.hash,
      namespace: ns as NamespaceId,
      permission,
      resource,
      subjectEntity: entity,
    });
    return { expiresAtMs, recheckAtMs, proof, entity };
  }

  /** Resolves a public entity by hash, storing a newly sent one. */
  entity(hash: string, sent?: Uint8Array): Promise<PublicEntity> {
    return this.resolve('entity', hash, sent, this.entities, (b) =>
      PublicEntity.decode(b),
    );
  }

  /** Resolves a proof by hash, storing a newly sent one. */
  proof(hash: string, sent?: Uint8Array): Promise<Proof> {
    return this.resolve('proof', hash, sent, this.proofs, (b) =>
      Proof.decode(b),
    );
  }

  /**
   * An object by hash: from the cache, else the bytes just sent, else the
   * data store. Sent bytes must hash to `hash` and are kept for later.
   */
  private async resolve<T extends { hash: string }>(
    kind: 'proof' | 'entity',
    hash: string,
    sent: Uint8Array | undefined,
    cache: LruMap<string, T>,
    decode: (bytes: Uint8Array) => T,
  ): Promise<T> {
    const cached = cache.get(hash);
    if (cached) return cached;
    const bytes = sent ?? (await this.o.store.getObject(kind, hash));
    if (!bytes) {
      throw new ProofNotCachedError(`${kind} ${hash} is not known here`, {
        hash,
      });
    }
    const obj = decode(bytes);
    if (obj.hash !== hash) {
      throw new BadRequestError(`${kind} sent does not hash to ${hash}`, {
        field: kind,
      });
    }
    cache.set(hash, obj);
    if (sent) await this.o.store.putObject(kind, hash, bytes);
    return obj;
  }
}
