/**
 * TLS identities bound to entity keys: a self-signed X.509 certificate over
 * the Ed25519 key whose seed is the entity's signing seed, so a peer can be
 * pinned by comparing the certificate's key with an entity key.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  webcrypto,
} from 'node:crypto';
import { InvalidSeedError } from './errors.ts';

/** A certificate and its private key (PEM), plus the raw public key. */
export interface TlsIdentity {
  certPem: string;
  keyPem: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

/** Fixed PKCS#8 header of an Ed25519 private key (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from(
  '302e020100300506032b657004220420',
  'hex',
);
/** Fixed SPKI header of an Ed25519 public key (RFC 8410). */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_KEY_BYTES = 32;

// Peers are pinned by key, never by validity dates: sites may boot with
// no clock. The widest window keeps a certificate usable everywhere;
// RFC 5280 4.1.2.5 names 99991231235959Z for "no expiry".
const NOT_BEFORE = new Date(Date.UTC(2000, 0, 1));
const NOT_AFTER = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

type X509Crypto = Parameters<typeof x509.cryptoProvider.set>[0];

/**
 * The part of the generator we use, typed with Node's WebCrypto key type
 * (the library's own declarations refer to DOM types we do not load).
 */
type CreateSelfSigned = (params: {
  serialNumber: string;
  name: string;
  notBefore: Date;
  notAfter: Date;
  keys: { privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey };
  signingAlgorithm: { name: string };
}) => Promise<{ toString(format: 'pem'): string }>;

const createSelfSigned = x509.X509CertificateGenerator.createSelfSigned.bind(
  x509.X509CertificateGenerator,
) as unknown as CreateSelfSigned;

x509.cryptoProvider.set(webcrypto as unknown as X509Crypto);

/**
 * Builds a self-signed Ed25519 certificate from a 32-byte Ed25519 seed
 * (the libsodium seed of an entity's signing key). The same seed always
 * gives the same certificate.
 * @throws InvalidSeedError when `seed` is not 32 bytes.
 */
export async function createTlsIdentity(
  seed: Uint8Array,
): Promise<TlsIdentity> {
  if (seed.byteLength !== ED25519_KEY_BYTES) {
    throw new InvalidSeedError('TLS identity seed must be 32 bytes', {
      length: seed.byteLength,
    });
  }
  const pkcs8 = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  const keyObject = createPrivateKey({
    key: pkcs8,
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(keyObject).export({
    format: 'der',
    type: 'spki',
  });
  const algorithm = { name: 'Ed25519' };
  const subtle = webcrypto.subtle;
  const keys = {
    privateKey: await subtle.importKey('pkcs8', pkcs8, algorithm, false, [
      'sign',
    ]),
    publicKey: await subtle.importKey('spki', spki, algorithm, true, [
      'verify',
    ]),
  };
  const publicKey = new Uint8Array(spki.subarray(-ED25519_KEY_BYTES));
  const cert = await createSelfSigned({
    serialNumber: serialFor(publicKey),
    name: 'CN=wavemq',
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keys,
    signingAlgorithm: algorithm,
  });
  const keyPem = keyObject.export({ format: 'pem', type: 'pkcs8' });
  return { certPem: cert.toString('pem'), keyPem: String(keyPem), publicKey };
}

/** A positive 16-byte serial derived from the key, hex. */
function serialFor(publicKey: Uint8Array): string {
  const digest = createHash('sha256').update(publicKey).digest();
  digest[0] = (digest[0] ?? 0) & 0x7f;
  return digest.subarray(0, 16).toString('hex');
}

/**
 * The raw Ed25519 public key of a DER certificate, or undefined when the
 * certificate cannot be parsed or holds another kind of key.
 */
export function ed25519KeyOfCert(der: Uint8Array): Uint8Array | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    // An unparseable certificate simply has no key we can pin.
    return undefined;
  }
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'ed25519') return undefined;
  const spki = key.export({ format: 'der', type: 'spki' });
  if (spki.byteLength !== SPKI_ED25519_PREFIX.byteLength + ED25519_KEY_BYTES) {
    return undefined;
  }
  return new Uint8Array(spki.subarray(-ED25519_KEY_BYTES));
}

/** Constant-time equality of two raw keys. */
export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** base64url text of a key, for error data and logs. */
export function keyText(key: Uint8Array | undefined): string {
  return key ? Buffer.from(key).toString('base64url') : '';
}
