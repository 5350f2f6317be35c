/**
 * The libsodium calls wave/ uses, over Uint8Array. Only this module
 * imports sodium-native. Every output is a fresh buffer.
 */
import sodium from 'sodium-native';

/** Ed25519 seed size, bytes. */
export const SEED_BYTES = 32;
/** Ed25519 public key size, bytes. */
export const SIGN_PUBLIC_KEY_BYTES = 32;
/** Ed25519 signature size, bytes. */
export const SIGNATURE_BYTES = 64;
/** BLAKE2b-256 digest size, bytes. */
export const DIGEST_BYTES = 32;

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** `n` random bytes from the OS generator. */
export function randomBytes(n: number): Uint8Array {
  const out = Buffer.alloc(n);
  sodium.randombytes_buf(out);
  return out;
}

/** BLAKE2b-256 of the concatenation of `parts`. */
export function blake2b256(...parts: Uint8Array[]): Uint8Array {
  const out = Buffer.alloc(DIGEST_BYTES);
  // One call over a joined copy is faster than the batch API for the
  // short inputs hashed here (Merkle nodes, digests, entities).
  const input = parts.length === 1 ? buf(parts[0]!) : Buffer.concat(parts);
  sodium.crypto_generichash(out, input);
  return out;
}

/** Keyed BLAKE2b-256 (a MAC / PRF); `key` is 16 to 64 bytes. */
export function keyedBlake2b256(
  key: Uint8Array,
  ...parts: Uint8Array[]
): Uint8Array {
  const out = Buffer.alloc(DIGEST_BYTES);
  sodium.crypto_generichash_batch(out, parts.map(buf), buf(key));
  return out;
}

/** An Ed25519 key pair; `secretKey` is libsodium's 64-byte form. */
export interface SignKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** The Ed25519 key pair of a 32-byte seed. */
export function signKeyPair(seed: Uint8Array): SignKeyPair {
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, buf(seed));
  return { publicKey, secretKey };
}

/** The X25519 public key of a 32-byte seed. */
export function boxPublicKey(seed: Uint8Array): Uint8Array {
  const publicKey = Buffer.alloc(sodium.crypto_box_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_box_SECRETKEYBYTES);
  sodium.crypto_box_seed_keypair(publicKey, secretKey, buf(seed));
  sodium.sodium_memzero(secretKey);
  return publicKey;
}

/** Detached Ed25519 signature of `message`. */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  const sig = Buffer.alloc(SIGNATURE_BYTES);
  sodium.crypto_sign_detached(sig, buf(message), buf(secretKey));
  return sig;
}

/** Whether `sig` is a valid Ed25519 signature; false on bad sizes. */
export function verify(
  sig: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (sig.length !== SIGNATURE_BYTES) return false;
  if (publicKey.length !== SIGN_PUBLIC_KEY_BYTES) return false;
  return sodium.crypto_sign_verify_detached(
    buf(sig),
    buf(message),
    buf(publicKey),
  );
}

/** Argon2id13 parameters: passes and memory in bytes. */
export interface KdfParams {
  opsLimit: number;
  memLimitBytes: number;
}

/**
 * Parameters for sealing entity files: libsodium's "interactive" level,
 * about 60 ms and 64 MiB on a small server core.
 */
export const DEFAULT_KDF: KdfParams = {
  opsLimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
  memLimitBytes: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
};
/** Salt size of {@link deriveKey}, bytes. */
export const KDF_SALT_BYTES = sodium.crypto_pwhash_SALTBYTES;
/** Nonce size of {@link seal}, bytes. */
export const SEAL_NONCE_BYTES = sodium.crypto_secretbox_NONCEBYTES;

/** A 32-byte secretbox key from a passphrase with Argon2id13. */
export function deriveKey(
  passphrase: string,
  salt: Uint8Array,
  params: KdfParams,
): Uint8Array {
  const key = Buffer.alloc(sodium.crypto_secretbox_KEYBYTES);
  sodium.crypto_pwhash(
    key,
    Buffer.from(passphrase, 'utf8'),
    buf(salt),
    params.opsLimit,
    params.memLimitBytes,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
  return key;
}

/** XSalsa20-Poly1305 secretbox of `plain`. */
export function seal(
  plain: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array {
  const out = Buffer.alloc(plain.length + sodium.crypto_secretbox_MACBYTES);
  sodium.crypto_secretbox_easy(out, buf(plain), buf(nonce), buf(key));
  return out;
}

/** Opens a secretbox; undefined when the key or the bytes are wrong. */
export function open(
  sealed: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array | undefined {
  const mac = sodium.crypto_secretbox_MACBYTES;
  if (sealed.length < mac || nonce.length !== SEAL_NONCE_BYTES) {
    return undefined;
  }
  const out = Buffer.alloc(sealed.length - mac);
  const ok = sodium.crypto_secretbox_open_easy(
    out,
    buf(sealed),
    buf(nonce),
    buf(key),
  );
  return ok ? out : undefined;
}

/** Overwrites `secret` with zeros. */
export function wipe(secret: Uint8Array): void {
  sodium.sodium_memzero(buf(secret));
}
