/**
 * Entities: an Ed25519 signing key, an X25519 key for payload encryption,
 * a validity window and a revocation commitment, self-signed. The public
 * part is a {@link PublicEntity}; {@link Entity} adds the secrets, which
 * live in an armored secret file, optionally sealed with a passphrase
 * (Argon2id13 key, XSalsa20-Poly1305 secretbox).
 */
import { invariant, type EntityHash } from '../common/index.ts';
import { encode } from '../wire/index.ts';
import { armor, dearmorAs, LABELS } from './armor.ts';
import { DecodeCache } from './decode-cache.ts';
import {
  decodeSigned,
  encodeSigned,
  Fields,
  malformed,
  signedMessage,
} from './fields.ts';
import { hashOf, revocationCommitment } from './hash.ts';
import { ObjectSignatureError } from './errors.ts';
import * as na from './sodium.ts';
import {
  checkWindow,
  DEFAULT_ENTITY_EXPIRY_MS,
  newWindow,
  type ValidityOptions,
} from './validity.ts';
import { openKeys, sealKeys, type EntityKeys } from './sealed-keys.ts';

const KIND = 'entity';

/** Entities already decoded and checked, by hash of their bytes. */
const decodedEntities = new DecodeCache<PublicEntity>();

/** The public part of an entity. Immutable; checked when decoded. */
export class PublicEntity {
  /** BLAKE2b-256 multihash of {@link bytes}. */
  readonly hash: EntityHash;

  private constructor(
    /** The encoded, self-signed entity. */
    readonly bytes: Uint8Array,
    /** Ed25519 public key, 32 bytes. */
    readonly signingKey: Uint8Array,
    /** X25519 public key, 32 bytes. */
    readonly encryptionKey: Uint8Array,
    /** Start of validity, ms since the epoch (inclusive). */
    readonly notBeforeMs: number,
    /** End of validity, ms since the epoch (exclusive). */
    readonly notAfterMs: number,
    /** BLAKE2b-256 of the entity's revocation secret, 32 bytes. */
    readonly revocationCommitment: Uint8Array,
  ) {
    this.hash = hashOf(bytes);
  }

  /**
   * Decodes an entity and checks its self-signature.
   * @throws MalformedObjectError for bad bytes or fields.
   * @throws ObjectSignatureError when the self-signature does not verify.
   */
  static decode(bytes: Uint8Array): PublicEntity {
    return decodedEntities.get(bytes, (b) => PublicEntity.parse(b));
  }

  private static parse(bytes: Uint8Array): PublicEntity {
    const copy = new Uint8Array(bytes);
    const { tbs, sig } = decodeSigned(copy, KIND);
    const f = Fields.decode(tbs, KIND);
    f.expectType('wavemq-entity', 1);
    const e = new PublicEntity(
      copy,
      f.bytes('signingKey', na.SIGN_PUBLIC_KEY_BYTES),
      f.bytes('encryptionKey', 32),
      f.int('notBeforeMs'),
      f.int('notAfterMs'),
      f.bytes('revocationCommitment', na.DIGEST_BYTES),
    );
    checkWindow(e, KIND);
    if (!na.verify(sig, signedMessage(KIND, tbs), e.signingKey)) {
      throw new ObjectSignatureError(
        `entity ${e.hash}: self-signature does not verify`,
        { kind: KIND, reason: 'self-signature' },
      );
    }
    return e;
  }

  /** Whether `signature` is this entity's Ed25519 signature of `data`. */
  verify(data: Uint8Array, signature: Uint8Array): boolean {
    return na.verify(signature, data, this.signingKey);
  }

  /** The entity as an armored `WAVEMQ ENTITY` file. */
  encodeFile(): string {
    return armor(LABELS.entity, this.bytes);
  }
}

/** Ed25519 secret keys of entities, kept off the objects themselves. */
const secretKeys = new WeakMap<Entity, Uint8Array>();

function secretKeyOf(entity: Entity): Uint8Array {
  const sk = secretKeys.get(entity);
  invariant(sk, 'entity without a secret key');
  return sk;
}

/**
 * Signs `tbs` as a `kind` object with `entity`'s key (context-separated,
 * see signedMessage). For wave/ modules only; not exported by the index.
 */
export function signObject(
  entity: Entity,
  kind: string,
  tbs: Uint8Array,
): Uint8Array {
  return na.sign(secretKeyOf(entity), signedMessage(kind, tbs));
}

/** An entity with its secrets: it can sign. */
export class Entity {
  private constructor(
    /** The public part. */
    readonly publicEntity: PublicEntity,
    private readonly keys: EntityKeys,
    secretKey: Uint8Array,
  ) {
    secretKeys.set(this, secretKey);
  }

  /** Hash of the public entity; for a namespace, its NamespaceId. */
  get hash(): EntityHash {
    return this.publicEntity.hash;
  }

  /** The 32-byte Ed25519 seed (for making this entity's TLS key). */
  get signingSeed(): Uint8Array {
    return new Uint8Array(this.keys.signingSeed);
  }

  /**
   * The 32-byte revocation secret: publishing it to storage revokes this
   * entity. Keep it as secret as the signing seed.
   */
  get revocationSecret(): Uint8Array {
    return new Uint8Array(this.keys.revocationSecret);
  }

  /**
   * Ed25519 signature (64 bytes) of `data` as given. Callers choose data
   * that cannot be mistaken for anything else (a digest of a fixed-order,
   * tagged CBOR array, say); wave objects are signed separately.
   */
  sign(data: Uint8Array): Uint8Array {
    return na.sign(secretKeyOf(this), data);
  }

  /**
   * A new entity with fresh keys.
   * @param o.notBeforeMs start of validity; default now - 60 s.
   * @param o.expiryMs validity after creation; default 365 days.
   * @throws InvalidArgumentError for a bad window.
   */
  static create(o: ValidityOptions = {}): Entity {
    const w = newWindow(o, DEFAULT_ENTITY_EXPIRY_MS);
    const keys: EntityKeys = {
      signingSeed: na.randomBytes(32),
      encryptionSeed: na.randomBytes(32),
      revocationSecret: na.randomBytes(32),
    };
    const { publicKey, secretKey } = na.signKeyPair(keys.signingSeed);
    const tbs = encode({
      type: 'wavemq-entity',
      v: 1,
      signingKey: publicKey,
      encryptionKey: na.boxPublicKey(keys.encryptionSeed),
      notBeforeMs: w.notBeforeMs,
      notAfterMs: w.notAfterMs,
      revocationCommitment: revocationCommitment(keys.revocationSecret),
    });
    const sig = na.sign(secretKey, signedMessage(KIND, tbs));
    const pub = PublicEntity.decode(encodeSigned({ tbs, sig }));
    return new Entity(pub, keys, secretKey);
  }

  /**
   * The armored `WAVEMQ ENTITY SECRET` file of this entity. With a
   * passphrase the keys are sealed (Argon2id13, about 60 ms to open).
   * @throws InvalidArgumentError for an empty passphrase.
   */
  encodeSecret(passphrase?: string): string {
    const body = {
      type: 'wavemq-entity-secret',
      v: 1,
      entity: this.publicEntity.bytes,
      ...(passphrase === undefined
        ? { keys: encode(this.keys) }
        : { sealed: sealKeys(encode(this.keys), passphrase) }),
    };
    return armor(LABELS.entitySecret, encode(body));
  }

  /**
   * Reads an armored entity secret file.
   * @throws PassphraseRequiredError when sealed and no passphrase given.
   * @throws WrongPassphraseError when the passphrase does not open it.
   * @throws MalformedObjectError for bad contents or keys that do not
   *   belong to the entity in the file.
   */
  static decodeSecret(text: string, passphrase?: string): Entity {
    const kind = 'entity secret';
    const f = Fields.decode(dearmorAs(text, LABELS.entitySecret), kind);
    f.expectType('wavemq-entity-secret', 1);
    const pub = PublicEntity.decode(f.bytes('entity'));
    const sealed = f.optBytes('keys') === undefined;
    const plain = sealed
      ? openKeys(f.map('sealed'), passphrase, pub.hash)
      : f.bytes('keys');
    const k = Fields.decode(plain, `${kind} keys`);
    const keys: EntityKeys = {
      signingSeed: k.bytes('signingSeed', 32),
      encryptionSeed: k.bytes('encryptionSeed', 32),
      revocationSecret: k.bytes('revocationSecret', 32),
    };
    const { publicKey, secretKey } = na.signKeyPair(keys.signingSeed);
    const matches =
      Buffer.compare(publicKey, pub.signingKey) === 0 &&
      Buffer.compare(
        na.boxPublicKey(keys.encryptionSeed),
        pub.encryptionKey,
      ) === 0 &&
      Buffer.compare(
        revocationCommitment(keys.revocationSecret),
        pub.revocationCommitment,
      ) === 0;
    if (!matches) malformed(kind, `keys do not belong to entity ${pub.hash}`);
    return new Entity(pub, keys, secretKey);
  }
}
