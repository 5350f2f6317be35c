/**
 * Wave objects as files: reading any armored object, and summarising one
 * for people and for `inspect --json`.
 */
import { systemClock, type Clock } from '../common/index.ts';
import { dearmor, LABELS } from './armor.ts';
import { Attestation } from './attestation.ts';
import { Entity, PublicEntity } from './entity.ts';
import { Fields, malformed } from './fields.ts';
import { toBase64Url } from './hash.ts';
import type { Statement } from './policy.ts';
import { Proof } from './proof.ts';
import { windowStatus, type ValidityWindow } from './validity.ts';

/** Any wave object read from a file, tagged by kind. */
export type WaveObject =
  | { kind: 'entity-secret'; entity: Entity }
  | { kind: 'entity'; entity: PublicEntity }
  | { kind: 'attestation'; attestation: Attestation }
  | { kind: 'proof'; proof: Proof };

/**
 * Reads the first armored object in `text`.
 * @param passphrase opens a sealed entity secret.
 * @throws MalformedObjectError for unknown labels or bad contents;
 *   PassphraseRequiredError / WrongPassphraseError for sealed secrets;
 *   ObjectSignatureError, MalformedProofError or ProofSignatureError for
 *   objects that do not check.
 */
export function readObject(text: string, passphrase?: string): WaveObject {
  const { label, bytes } = dearmor(text);
  switch (label) {
    case LABELS.entitySecret:
      return {
        kind: 'entity-secret',
        entity: Entity.decodeSecret(text, passphrase),
      };
    case LABELS.entity:
      return { kind: 'entity', entity: PublicEntity.decode(bytes) };
    case LABELS.attestation:
      return { kind: 'attestation', attestation: Attestation.decode(bytes) };
    case LABELS.proof:
      return { kind: 'proof', proof: Proof.decode(bytes) };
    default:
      return malformed('file', `unknown object kind '${label}'`);
  }
}

/**
 * The public entity in an entity file or an entity secret file; a sealed
 * secret file needs no passphrase for this (its public part is in clear).
 * @throws MalformedObjectError for other files or bad contents;
 *   ObjectSignatureError when the entity's self-signature does not verify.
 */
export function readPublicEntity(text: string): PublicEntity {
  const { label, bytes } = dearmor(text);
  if (label === LABELS.entity) return PublicEntity.decode(bytes);
  if (label !== LABELS.entitySecret) {
    return malformed('file', `holds ${label}, not an entity`);
  }
  const f = Fields.decode(bytes, 'entity secret');
  f.expectType('wavemq-entity-secret', 1);
  return PublicEntity.decode(f.bytes('entity'));
}

/** Validity of an object as JSON: ISO times and status at a given time. */
export type ValiditySummary = {
  notBefore: string;
  notAfter: string;
  status: 'valid' | 'expired' | 'not-yet-valid';
};

/** A public entity as JSON. */
export type EntitySummary = {
  kind: 'entity' | 'entity-secret';
  hash: string;
  signingKey: string;
  encryptionKey: string;
  revocationCommitment: string;
  validity: ValiditySummary;
};

/** An attestation as JSON. */
export type AttestationSummary = {
  kind: 'attestation';
  hash: string;
  attester: string;
  subject: string;
  namespace: string;
  statements: Statement[];
  indirections: number;
  revocationCommitment: string;
  validity: ValiditySummary;
  /** Whether the subject's public entity is embedded. */
  subjectEmbedded: boolean;
};

/** A proof as JSON, with its path summarised link by link. */
export type ProofSummary = {
  kind: 'proof';
  hash: string;
  subject: string;
  namespace: string;
  expiresAt: string;
  path: AttestationSummary[];
};

/** What {@link inspectObject} returns. */
export type ObjectSummary = EntitySummary | AttestationSummary | ProofSummary;

function validity(w: ValidityWindow, nowMs: number): ValiditySummary {
  return {
    notBefore: new Date(w.notBeforeMs).toISOString(),
    notAfter: new Date(w.notAfterMs).toISOString(),
    status: windowStatus(w, nowMs),
  };
}

function entitySummary(
  e: PublicEntity,
  kind: EntitySummary['kind'],
  nowMs: number,
): EntitySummary {
  return {
    kind,
    hash: e.hash,
    signingKey: toBase64Url(e.signingKey),
    encryptionKey: toBase64Url(e.encryptionKey),
    revocationCommitment: toBase64Url(e.revocationCommitment),
    validity: validity(e, nowMs),
  };
}

function attestationSummary(a: Attestation, nowMs: number): AttestationSummary {
  return {
    kind: 'attestation',
    hash: a.hash,
    attester: a.attester,
    subject: a.subject,
    namespace: a.namespace,
    statements: a.statements.map((s) => ({
      permissions: [...s.permissions],
      resource: s.resource,
    })),
    indirections: a.indirections,
    revocationCommitment: toBase64Url(a.revocationCommitment),
    validity: validity(a, nowMs),
    subjectEmbedded: a.subjectEntity !== undefined,
  };
}

/**
 * A plain, JSON-ready summary of `obj` (hashes, keys and commitments in
 * base64url, times in ISO 8601, status at the clock's now). Never includes
 * a secret.
 */
export function inspectObject(
  obj: WaveObject,
  o: { clock?: Clock } = {},
): ObjectSummary {
  const nowMs = (o.clock ?? systemClock).now();
  switch (obj.kind) {
    case 'entity-secret':
      return entitySummary(obj.entity.publicEntity, obj.kind, nowMs);
    case 'entity':
      return entitySummary(obj.entity, obj.kind, nowMs);
    case 'attestation':
      return attestationSummary(obj.attestation, nowMs);
    case 'proof':
      return {
        kind: 'proof',
        hash: obj.proof.hash,
        subject: obj.proof.subject,
        namespace: obj.proof.namespace,
        expiresAt: new Date(obj.proof.expiresAtMs).toISOString(),
        path: obj.proof.path.map((a) => attestationSummary(a, nowMs)),
      };
  }
}
