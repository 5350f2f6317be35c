/**
 * Message digests and Merkle batch signatures.
 *
 * A message digest is BLAKE2b-256 over the CBOR encoding of a fixed-order
 * array of every field a router must not change; integers go in as 8-byte
 * big-endian strings so every implementation encodes them alike.
 *
 * A publisher signs a batch once: leaves are H(0x00 || digest), inner
 * nodes H(0x01 || left || right) (the prefixes keep a leaf from passing as
 * a node), the leaf count is padded to a power of two with H(0x02), and
 * the signature covers the root under the context `wavemq/v1/batch`. Each
 * message carries its leaf index and the sibling hashes up to the root. A
 * batch of one has an empty path.
 */
import { LruMap, type EntityHash, type NamespaceId } from '../common/index.ts';
import { encode } from '../wire/index.ts';
import { signObject, type Entity } from './entity.ts';
import { InvalidArgumentError } from './errors.ts';
import { signedMessage } from './fields.ts';
import { bytesEqual, toBase64Url } from './hash.ts';
import type { WaveMetrics } from './metrics.ts';
import * as na from './sodium.ts';

/** The signed fields of a message. */
export interface MessageFields {
  namespace: NamespaceId;
  uri: string;
  payloads: { schema: string; content: Uint8Array }[];
  publisher: EntityHash;
  originRouter: string;
  sessionId: string;
  /** Sequence number in the publisher session, >= 0. */
  seq: number;
  /** Publish time, ms since the epoch. */
  publishedAtMs: number;
  persist: boolean;
  proofHash: EntityHash;
}

/** The signed fields of a subscribe or query request. */
export interface RequestFields {
  kind: 'subscribe' | 'query';
  ns: string;
  pattern: string;
  requester: string;
  /** Client-chosen subscription identifier ('' for queries). */
  id: string;
  /** How long the queue outlives a disconnected subscriber, ms. */
  expiryMs: number;
  /** Request time, ms since the epoch. */
  ts: number;
  proofHash: string;
}

/** A message's share of a batch signature. */
export interface MessageSignature {
  /** Merkle root of the batch, 32 bytes. */
  root: Uint8Array;
  /** Ed25519 signature of the root, 64 bytes. */
  signature: Uint8Array;
  /** Leaf index of this message in the batch. */
  index: number;
  /** Sibling hashes from the leaf up to the root. */
  path: Uint8Array[];
}

/** Deepest Merkle path accepted (batches of up to 2^20 messages). */
export const MAX_MERKLE_DEPTH = 20;

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
const PAD = na.blake2b256(Uint8Array.of(2));
const BATCH_CONTEXT = 'batch';

/**
 * 8-byte big-endian form of a non-negative safe integer.
 * @throws InvalidArgumentError for anything else, so that two different
 *   values never share a digest.
 */
function u64(name: string, n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer`, {
      argument: name,
      reason: String(n),
    });
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/**
 * The 32-byte digest a publisher signs for one message.
 * @throws InvalidArgumentError when seq or publishedAtMs is not a
 *   non-negative integer.
 */
export function messageDigest(f: MessageFields): Uint8Array {
  return na.blake2b256(
    encode([
      'wavemq/v1/message',
      f.namespace,
      f.uri,
      f.payloads.map((p) => [p.schema, p.content]),
      f.publisher,
      f.originRouter,
      f.sessionId,
      u64('seq', f.seq),
      u64('publishedAtMs', f.publishedAtMs),
      f.persist,
      f.proofHash,
    ]),
  );
}

/**
 * The 32-byte digest a requester signs for a subscribe or query.
 * @throws InvalidArgumentError when expiryMs or ts is not a non-negative
 *   integer.
 */
export function requestDigest(f: RequestFields): Uint8Array {
  return na.blake2b256(
    encode([
      'wavemq/v1/request',
      f.kind,
      f.ns,
      f.pattern,
      f.requester,
      f.id,
      u64('expiryMs', f.expiryMs),
      u64('ts', f.ts),
      f.proofHash,
    ]),
  );
}

// Reused input buffers: Merkle hashing is on the per-message path, and
// joining the parts afresh each time costs more than the hash itself.
const leafInput = new Uint8Array(1 + na.DIGEST_BYTES);
const nodeInput = new Uint8Array(1 + 2 * na.DIGEST_BYTES);
leafInput.set(LEAF, 0);
nodeInput.set(NODE, 0);

function leafOf(digest: Uint8Array): Uint8Array {
  if (digest.length !== na.DIGEST_BYTES) return na.blake2b256(LEAF, digest);
  leafInput.set(digest, 1);
  return na.blake2b256(leafInput);
}

function nodeOf(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + na.DIGEST_BYTES);
  return na.blake2b256(nodeInput);
}

/** Signs a batch of digests with one Ed25519 signature; [] for none. */
export function signDigests(
  entity: Entity,
  digests: Uint8Array[],
): MessageSignature[] {
  if (digests.length === 0) return [];
  let level = digests.map(leafOf);
  while ((level.length & (level.length - 1)) !== 0) level.push(PAD);
  const levels = [level];
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      up.push(nodeOf(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    }
    levels.push(up);
    level = up;
  }
  const root = level[0] as Uint8Array;
  const signature = signObject(entity, BATCH_CONTEXT, root);
  return digests.map((_, index) => ({
    root,
    signature,
    index,
    path: levels
      .slice(0, -1)
      .map((l, depth) => l[(index >>> depth) ^ 1] as Uint8Array),
  }));
}

/** The root that `digest` at `index` with `path` leads to, if well formed. */
function rootOf(
  digest: Uint8Array,
  sig: MessageSignature,
): Uint8Array | undefined {
  const { index, path } = sig;
  if (path.length > MAX_MERKLE_DEPTH) return undefined;
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** path.length) {
    return undefined;
  }
  let h = leafOf(digest);
  for (const [depth, sibling] of path.entries()) {
    if (sibling.length !== na.DIGEST_BYTES) return undefined;
    h = (index >>> depth) & 1 ? nodeOf(sibling, h) : nodeOf(h, sibling);
  }
  return h;
}

/** Options of {@link SignatureVerifier}. */
export interface SignatureVerifierOptions {
  /** Most verified roots remembered; default 4096. */
  maxRoots?: number;
  metrics?: WaveMetrics;
}

/**
 * Verifies message signatures, remembering verified (key, root) pairs in a
 * bounded LRU (overflow evicts the least recently used) so a batch costs
 * one Ed25519 verification and hashing for the rest.
 */
export class SignatureVerifier {
  private readonly roots: LruMap<string, true>;
  private readonly counts = { verifies: 0, rootHits: 0, failures: 0 };

  constructor(private readonly o: SignatureVerifierOptions = {}) {
    this.roots = new LruMap(o.maxRoots ?? 4096);
  }

  /** Ed25519 verifications done, root cache hits, and rejections. */
  get stats(): { verifies: number; rootHits: number; failures: number } {
    return { ...this.counts };
  }

  /** Whether `sig` is `signingKey`'s signature over `digest`. */
  verify(
    digest: Uint8Array,
    sig: MessageSignature,
    signingKey: Uint8Array,
  ): boolean {
    if (digest.length !== na.DIGEST_BYTES) return this.fail();
    const root = rootOf(digest, sig);
    if (!root || !bytesEqual(root, sig.root)) return this.fail();
    const key = toBase64Url(signingKey) + ':' + toBase64Url(root);
    if (this.roots.get(key)) {
      this.counts.rootHits++;
      this.o.metrics?.signatureRootCacheHits.inc();
      return true;
    }
    this.counts.verifies++;
    const msg = signedMessage(BATCH_CONTEXT, root);
    const ok = na.verify(sig.signature, msg, signingKey);
    this.o.metrics?.signatureVerifications.inc({
      result: ok ? 'valid' : 'invalid',
    });
    if (!ok) return this.fail();
    this.roots.set(key, true);
    return true;
  }

  private fail(): false {
    this.counts.failures++;
    return false;
  }
}
