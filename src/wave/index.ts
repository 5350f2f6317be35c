/**
 * wave/: the security model. Entities, attestations and proofs; the
 * resource pattern algebra; proof verification with its cache; message
 * digests and batch signatures; armored object files; storage providers
 * and revocation lookups; metrics.
 */
export * from './errors.ts';
export {
  BLAKE2B_256_PREFIX,
  fromBase64,
  hashOf,
  hashToBytes,
  isBlake2bHash,
  parseHash,
  revocationCommitment,
  toBase64Url,
} from './hash.ts';
export {
  covers,
  hasWildcards,
  intersect,
  isValidPattern,
  matches,
  MAX_PATTERN_CHARS,
  MAX_SEGMENTS,
  validatePattern,
  validateUri,
} from './pattern.ts';
export {
  grants,
  isPermission,
  MAX_STATEMENTS,
  PERMISSIONS,
  type Permission,
  type Statement,
} from './policy.ts';
export {
  DEFAULT_ATTESTATION_EXPIRY_MS,
  DEFAULT_BACKDATE_MS,
  DEFAULT_ENTITY_EXPIRY_MS,
  windowStatus,
  type ValidityOptions,
  type ValidityWindow,
} from './validity.ts';
export { Entity, PublicEntity } from './entity.ts';
export {
  Attestation,
  MAX_INDIRECTIONS,
  type AttestationOptions,
} from './attestation.ts';
export { MAX_PROOF_LINKS, Proof, type BuildOptions } from './proof.ts';
export type { AccessRequest } from './proof-rules.ts';
export {
  DEFAULT_NEGATIVE_TTL_MS,
  DEFAULT_REVOCATION_RECHECK_MS,
  DEFAULT_VERIFIER_ENTRIES,
  Verifier,
  type RevocationChecker,
  type VerifierOptions,
  type VerifierStats,
  type VerifyResult,
} from './verifier.ts';
export {
  MAX_MERKLE_DEPTH,
  messageDigest,
  requestDigest,
  signDigests,
  SignatureVerifier,
  type MessageFields,
  type MessageSignature,
  type RequestFields,
  type SignatureVerifierOptions,
} from './message.ts';
export { LABELS as ARMOR_LABELS } from './armor.ts';
export {
  inspectObject,
  readObject,
  readPublicEntity,
  type AttestationSummary,
  type EntitySummary,
  type ObjectSummary,
  type ProofSummary,
  type ValiditySummary,
  type WaveObject,
} from './files.ts';
export { createWaveMetrics, type WaveMetrics } from './metrics.ts';
export {
  commitmentHash,
  HttpStorageProvider,
  revoke,
  type StorageProvider,
} from './storage.ts';
export {
  DEFAULT_REVOCATION_CACHE_ENTRIES,
  DEFAULT_STORAGE_RETRY_AFTER_MS,
  DEFAULT_STORAGE_TIMEOUT_MS,
  DEFAULT_UNREVOKED_TTL_MS,
  type HttpStorageOptions,
} from './storage-options.ts';
export { MAX_ANSWER_BYTES } from './storage-http.ts';
export { StorageSet } from './storage-set.ts';
