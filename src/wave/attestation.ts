/**
 * Attestations: an attester grants a subject statements in a namespace,
 * with a re-delegation allowance (indirections), a validity window and a
 * revocation commitment. The attester's public entity is embedded, and the
 * subject's too when known, so a proof carries all it needs to be checked.
 */
import type { EntityHash, NamespaceId } from '../common/index.ts';
import { encode } from '../wire/index.ts';
import { armor, LABELS } from './armor.ts';
import { DecodeCache } from './decode-cache.ts';
import { PublicEntity, signObject, type Entity } from './entity.ts';
import {
  InvalidArgumentError,
  InvalidHashError,
  ObjectSignatureError,
} from './errors.ts';
import {
  decodeSigned,
  encodeSigned,
  Fields,
  malformed,
  signedMessage,
} from './fields.ts';
import { parseHash, revocationCommitment } from './hash.ts';
import {
  checkStatements,
  freezeStatements,
  grants,
  MAX_STATEMENTS,
  statementsProblem,
  type Permission,
  type Statement,
} from './policy.ts';
import * as na from './sodium.ts';
import {
  checkWindow,
  DEFAULT_ATTESTATION_EXPIRY_MS,
  newWindow,
  type ValidityOptions,
} from './validity.ts';
import { hashOf } from './hash.ts';

const KIND = 'attestation';

/** Attestations already decoded and checked, by hash of their bytes. */
const decodedAttestations = new DecodeCache<Attestation>();
/** Highest indirection count an attestation may carry. */
export const MAX_INDIRECTIONS = 255;
const REVOCATION_CONTEXT = new TextEncoder().encode(
  'wavemq/v1/attestation-revocation',
);

/** Options of {@link Attestation.create}. */
export interface AttestationOptions extends ValidityOptions {
  /** Who is granted; a PublicEntity is embedded in the attestation. */
  subject: EntityHash | PublicEntity;
  namespace: NamespaceId;
  statements: Statement[];
  /** Further re-delegations allowed after this link; default 0. */
  indirections?: number;
}

/** What the attestation's tbs holds, decoded and checked. */
interface Body {
  attester: EntityHash;
  attesterEntity: PublicEntity;
  subject: EntityHash;
  subjectEntity: PublicEntity | undefined;
  namespace: NamespaceId;
  statements: Statement[];
  indirections: number;
  notBeforeMs: number;
  notAfterMs: number;
  revocationCommitment: Uint8Array;
  revocationNonce: Uint8Array;
}

function hashField(f: Fields, name: string): EntityHash {
  try {
    return parseHash(f.str(name, 200));
  } catch (err) {
    if (err instanceof InvalidHashError) {
      return malformed(KIND, `field '${name}': ${err.data.reason}`);
    }
    throw err;
  }
}

function embedded(f: Fields, name: string, hash: EntityHash): PublicEntity {
  const e = PublicEntity.decode(f.bytes(name));
  if (e.hash !== hash) {
    throw new ObjectSignatureError(
      `attestation: embedded ${name} is ${e.hash}, not ${hash}`,
      { kind: KIND, reason: `${name} mismatch` },
    );
  }
  return e;
}

function readBody(tbs: Uint8Array): Body {
  const f = Fields.decode(tbs, KIND);
  f.expectType('wavemq-attestation', 1);
  const attester = hashField(f, 'attester');
  const subject = hashField(f, 'subject');
  const statements = f.list('statements', MAX_STATEMENTS);
  const problem = statementsProblem(statements);
  if (problem !== undefined) malformed(KIND, problem);
  const hasSubject = f.optBytes('subjectEntity') !== undefined;
  const body: Body = {
    attester,
    attesterEntity: embedded(f, 'attesterEntity', attester),
    subject,
    subjectEntity: hasSubject
      ? embedded(f, 'subjectEntity', subject)
      : undefined,
    namespace: hashField(f, 'namespace') as string as NamespaceId,
    statements: freezeStatements(statements as Statement[]),
    indirections: f.int('indirections', 0, MAX_INDIRECTIONS),
    notBeforeMs: f.int('notBeforeMs'),
    notAfterMs: f.int('notAfterMs'),
    revocationCommitment: f.bytes('revocationCommitment', na.DIGEST_BYTES),
    revocationNonce: f.bytes('revocationNonce', 16),
  };
  checkWindow(body, KIND);
  return body;
}

/** A signed grant from an attester to a subject. Immutable. */
export class Attestation {
  /** BLAKE2b-256 multihash of {@link bytes}. */
  readonly hash: EntityHash;
  readonly attester: EntityHash;
  readonly subject: EntityHash;
  readonly namespace: NamespaceId;
  readonly statements: Statement[];
  /** Re-delegations allowed after this link on a proof path. */
  readonly indirections: number;
  /** Start of validity, ms since the epoch (inclusive). */
  readonly notBeforeMs: number;
  /** End of validity, ms since the epoch (exclusive). */
  readonly notAfterMs: number;
  /** BLAKE2b-256 of this attestation's revocation secret. */
  readonly revocationCommitment: Uint8Array;
  /** The attester's public entity, embedded so a proof is self-contained. */
  readonly attesterEntity: PublicEntity;
  /** The subject's public entity, when it was given at creation. */
  readonly subjectEntity: PublicEntity | undefined;
  private readonly revocationNonce: Uint8Array;

  private constructor(
    /** The encoded, signed attestation. */
    readonly bytes: Uint8Array,
    b: Body,
  ) {
    this.hash = hashOf(bytes);
    this.attester = b.attester;
    this.subject = b.subject;
    this.namespace = b.namespace;
    this.statements = b.statements;
    this.indirections = b.indirections;
    this.notBeforeMs = b.notBeforeMs;
    this.notAfterMs = b.notAfterMs;
    this.revocationCommitment = b.revocationCommitment;
    this.attesterEntity = b.attesterEntity;
    this.subjectEntity = b.subjectEntity;
    this.revocationNonce = b.revocationNonce;
  }

  /**
   * Decodes an attestation, checking its signature against the embedded
   * attester entity and that entity's hash against `attester`.
   * @throws MalformedObjectError for bad bytes or fields.
   * @throws ObjectSignatureError when a signature or an embedded entity
   *   does not check.
   */
  static decode(bytes: Uint8Array): Attestation {
    return decodedAttestations.get(bytes, (b) => Attestation.parse(b));
  }

  private static parse(bytes: Uint8Array): Attestation {
    const copy = new Uint8Array(bytes);
    const { tbs, sig } = decodeSigned(copy, KIND);
    const body = readBody(tbs);
    const key = body.attesterEntity.signingKey;
    if (!na.verify(sig, signedMessage(KIND, tbs), key)) {
      throw new ObjectSignatureError(
        `attestation by ${body.attester}: signature does not verify`,
        { kind: KIND, reason: 'signature' },
      );
    }
    return new Attestation(copy, body);
  }

  /**
   * A new attestation signed by `attester`.
   * @param o.expiryMs validity after creation; default 30 days.
   * @param o.notBeforeMs start of validity; default now - 60 s.
   * @throws InvalidArgumentError for bad statements, indirections or
   *   window; InvalidHashError for a bad subject or namespace.
   */
  static create(attester: Entity, o: AttestationOptions): Attestation {
    const statements = checkStatements(o.statements);
    const indirections = o.indirections ?? 0;
    if (
      !Number.isSafeInteger(indirections) ||
      indirections < 0 ||
      indirections > MAX_INDIRECTIONS
    ) {
      throw new InvalidArgumentError(
        `indirections must be an integer in 0..${MAX_INDIRECTIONS}`,
        { argument: 'indirections', reason: 'out of range' },
      );
    }
    const w = newWindow(o, DEFAULT_ATTESTATION_EXPIRY_MS);
    const subjectEntity =
      o.subject instanceof PublicEntity ? o.subject : undefined;
    const nonce = na.randomBytes(16);
    const tbs = encode({
      type: 'wavemq-attestation',
      v: 1,
      attester: attester.hash,
      attesterEntity: attester.publicEntity.bytes,
      subject: subjectEntity
        ? subjectEntity.hash
        : parseHash(o.subject as string),
      ...(subjectEntity ? { subjectEntity: subjectEntity.bytes } : {}),
      namespace: parseHash(o.namespace),
      statements,
      indirections,
      notBeforeMs: w.notBeforeMs,
      notAfterMs: w.notAfterMs,
      revocationCommitment: revocationCommitment(
        revocationSecretOf(attester, nonce),
      ),
      revocationNonce: nonce,
    });
    const sig = signObject(attester, KIND, tbs);
    return Attestation.decode(encodeSigned({ tbs, sig }));
  }

  /** Whether this attestation grants `permission` on `resource`. */
  grants(permission: Permission, resource: string): boolean {
    return grants(this.statements, permission, resource);
  }

  /** The attestation as an armored `WAVEMQ ATTESTATION` file. */
  encodeFile(): string {
    return armor(LABELS.attestation, this.bytes);
  }

  /**
   * The revocation secret of this attestation: derived from the
   * attester's revocation secret, so the attester needs nothing else
   * stored to revoke it later.
   * @throws InvalidArgumentError when `attester` did not make it.
   */
  revocationSecret(attester: Entity): Uint8Array {
    if (attester.hash !== this.attester) {
      throw new InvalidArgumentError(
        `attestation ${this.hash} was made by ${this.attester}, ` +
          `not ${attester.hash}`,
        { argument: 'attester', reason: 'not the attester' },
      );
    }
    return revocationSecretOf(attester, this.revocationNonce);
  }
}

function revocationSecretOf(attester: Entity, nonce: Uint8Array): Uint8Array {
  return na.keyedBlake2b256(
    attester.revocationSecret,
    REVOCATION_CONTEXT,
    nonce,
  );
}
