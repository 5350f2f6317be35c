/**
 * Leaf errors of wave/: identifiers, patterns, objects, passphrases and
 * proofs. Every message names what is wrong; `data` carries the same facts
 * for machines. Nothing here ever holds a secret or a passphrase.
 */
import { WavemqError } from '../common/index.ts';

/** Text that is not a well-formed multihash; `data.input` is truncated. */
export class InvalidHashError extends WavemqError<{
  input: string;
  reason: string;
}> {
  readonly code = 'INVALID_HASH';
}

/** A resource pattern breaks the pattern rules (see pattern.ts). */
export class InvalidPatternError extends WavemqError<{
  pattern: string;
  reason: string;
}> {
  readonly code = 'INVALID_PATTERN';
}

/** A URI (a pattern without wildcards, as published) is not valid. */
export class InvalidUriError extends WavemqError<{
  uri: string;
  reason: string;
}> {
  readonly code = 'INVALID_URI';
}

/** A caller passed an option that cannot make a valid object. */
export class InvalidArgumentError extends WavemqError<{
  argument: string;
  reason: string;
}> {
  readonly code = 'WAVE_INVALID_ARGUMENT';
}

/** Bytes or text that do not decode to the expected wave object. */
export class MalformedObjectError extends WavemqError<{
  kind: string;
  reason: string;
}> {
  readonly code = 'MALFORMED_OBJECT';
}

/**
 * An object's signature does not verify, or an embedded entity is not the
 * one the object names.
 */
export class ObjectSignatureError extends WavemqError<{
  kind: string;
  reason: string;
}> {
  readonly code = 'BAD_OBJECT_SIGNATURE';
}

/** An entity secret file is sealed and no passphrase was given. */
export class PassphraseRequiredError extends WavemqError<{ hash: string }> {
  readonly code = 'PASSPHRASE_REQUIRED';
}

/** The passphrase does not open a sealed entity secret file. */
export class WrongPassphraseError extends WavemqError<{ hash: string }> {
  readonly code = 'WRONG_PASSPHRASE';
}

/** {@link Proof.build} found no path granting the request. */
export class NoProofFoundError extends WavemqError<{
  subject: string;
  namespace: string;
  permissions: string[];
  resource: string;
}> {
  readonly code = 'NO_PROOF_FOUND';
}

/** Base of every reason a proof does not grant a request. */
export abstract class ProofError<
  D extends Record<string, unknown> = Record<string, unknown>,
> extends WavemqError<D> {}

/** Where on a proof an object sits: link index, and entity or link. */
type Located = {
  index: number;
  kind: 'attestation' | 'entity';
  hash: string;
};

/** An attestation or entity on the path is past its notAfter. */
export class ProofExpiredError extends ProofError<
  Located & { notAfterMs: number; nowMs: number }
> {
  readonly code = 'PROOF_EXPIRED';
}

/** An attestation or entity on the path is before its notBefore. */
export class ProofNotYetValidError extends ProofError<
  Located & { notBeforeMs: number; nowMs: number }
> {
  readonly code = 'PROOF_NOT_YET_VALID';
}

/**
 * The proof is for another namespace, a link is in another namespace, or
 * the path does not start at the namespace entity. `index` is -1 for the
 * proof itself.
 */
export class ProofNamespaceError extends ProofError<{
  index: number;
  expected: string;
  actual: string;
}> {
  readonly code = 'PROOF_NAMESPACE';
}

/** The proof ends at another entity than the one asking. */
export class ProofSubjectError extends ProofError<{
  expected: string;
  actual: string;
}> {
  readonly code = 'PROOF_SUBJECT';
}

/** A link's subject is not the next link's attester. */
export class ProofChainError extends ProofError<{
  index: number;
  subject: string;
  nextAttester: string;
}> {
  readonly code = 'PROOF_BROKEN_CHAIN';
}

/** A link delegates further than its indirections allow. */
export class ProofIndirectionError extends ProofError<{
  index: number;
  indirections: number;
  required: number;
}> {
  readonly code = 'PROOF_INDIRECTION';
}

/** A signature on the proof does not verify. */
export class ProofSignatureError extends ProofError<{ reason: string }> {
  readonly code = 'PROOF_SIGNATURE';
}

/** A link does not grant the permission on a resource covering the request. */
export class PermissionDeniedError extends ProofError<{
  permission: string;
  resource: string;
  namespace: string;
  subject: string;
  index: number;
}> {
  readonly code = 'PERMISSION_DENIED';
}

/** An attestation or entity on the path has been revoked. */
export class ProofRevokedError extends ProofError<Located> {
  readonly code = 'PROOF_REVOKED';
}

/**
 * Revocation storage could not be reached and the verifier was not told
 * to assume objects unrevoked (`defaultToUnrevoked`).
 */
export class RevocationUnavailableError extends ProofError<Located> {
  readonly code = 'REVOCATION_UNAVAILABLE';
}

/** Proof bytes that do not decode to a proof. */
export class MalformedProofError extends ProofError<{ reason: string }> {
  readonly code = 'MALFORMED_PROOF';
}

/** Who a storage error is about: the provider's name and base URL. */
type StorageWhere = { provider: string; url: string };

/**
 * A storage provider could not be asked: network error, timeout, or a
 * server error (5xx). `reason` says which.
 */
export class StorageUnavailableError extends WavemqError<
  StorageWhere & { reason: string }
> {
  readonly code = 'STORAGE_UNAVAILABLE';
}

/**
 * A storage provider answered something that cannot be right: not the
 * expected JSON, bad base64, or bytes that do not hash to what was asked
 * (a lying or broken server).
 */
export class StorageBadAnswerError extends WavemqError<
  StorageWhere & { reason: string }
> {
  readonly code = 'STORAGE_BAD_ANSWER';
}

/**
 * A storage provider refused a request (a 4xx answer other than "not
 * found"), for example an object over its size limit. `reason` is the
 * server's own error text.
 */
export class StorageRefusedError extends WavemqError<
  StorageWhere & { status: number; reason: string }
> {
  readonly code = 'STORAGE_REFUSED';
}
