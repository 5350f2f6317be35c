/**
 * Passphrase sealing of an entity's keys: Argon2id13 derives a secretbox
 * key from the passphrase and a random salt. The KDF cost is stored with
 * the sealed bytes, within bounds, so it can be raised later without
 * breaking old files and a hostile file cannot demand gigabytes.
 */
import type { EntityHash } from '../common/index.ts';
import {
  InvalidArgumentError,
  PassphraseRequiredError,
  WrongPassphraseError,
} from './errors.ts';
import type { Fields } from './fields.ts';
import * as na from './sodium.ts';

/** The secrets of an entity. */
export interface EntityKeys {
  signingSeed: Uint8Array;
  encryptionSeed: Uint8Array;
  revocationSecret: Uint8Array;
}

/** Highest Argon2 pass count accepted from a file. */
export const MAX_KDF_OPS = 16;
/** Highest Argon2 memory accepted from a file, bytes (1 GiB). */
export const MAX_KDF_MEM_BYTES = 1024 * 1024 * 1024;

/** The `sealed` map of a secret file holding `plain`. */
export function sealKeys(
  plain: Uint8Array,
  passphrase: string,
  params: na.KdfParams = na.DEFAULT_KDF,
): Record<string, unknown> {
  if (passphrase.length === 0) {
    throw new InvalidArgumentError('passphrase is empty', {
      argument: 'passphrase',
      reason: 'empty',
    });
  }
  const salt = na.randomBytes(na.KDF_SALT_BYTES);
  const nonce = na.randomBytes(na.SEAL_NONCE_BYTES);
  const key = na.deriveKey(passphrase, salt, params);
  const box = na.seal(plain, nonce, key);
  na.wipe(key);
  return {
    kdf: 'argon2id13',
    opsLimit: params.opsLimit,
    memLimitBytes: params.memLimitBytes,
    salt,
    nonce,
    box,
  };
}

/** Opens the `sealed` map of the secret file of entity `hash`. */
export function openKeys(
  sealed: Fields,
  passphrase: string | undefined,
  hash: EntityHash,
): Uint8Array {
  sealed.expect('kdf', 'argon2id13');
  const params: na.KdfParams = {
    opsLimit: sealed.int('opsLimit', 1, MAX_KDF_OPS),
    memLimitBytes: sealed.int('memLimitBytes', 8192, MAX_KDF_MEM_BYTES),
  };
  const salt = sealed.bytes('salt', na.KDF_SALT_BYTES);
  const nonce = sealed.bytes('nonce', na.SEAL_NONCE_BYTES);
  const box = sealed.bytes('box');
  if (passphrase === undefined) {
    throw new PassphraseRequiredError(
      `entity secret ${hash} is sealed: a passphrase is required`,
      { hash },
    );
  }
  const key = na.deriveKey(passphrase, salt, params);
  const plain = na.open(box, nonce, key);
  na.wipe(key);
  if (!plain) {
    throw new WrongPassphraseError(
      `wrong passphrase for entity secret ${hash}`,
      { hash },
    );
  }
  return plain;
}
