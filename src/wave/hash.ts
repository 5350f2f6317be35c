/**
 * Object identifiers: multihashes written as base64url without padding.
 * Our own objects use BLAKE2b-256 (multihash code 0xb220, so the bytes are
 * `a0 e4 02 20` then the 32-byte digest, 36 bytes). Other well-formed
 * multihashes (such as WAVE's Keccak-256 `1b 20` + 32 bytes) are accepted
 * as names, so identifiers from older deployments still parse.
 */
import type { EntityHash } from '../common/index.ts';
import { InvalidHashError } from './errors.ts';
import { blake2b256 } from './sodium.ts';

/** Multihash header of a BLAKE2b-256 digest (code 0xb220, length 32). */
export const BLAKE2B_256_PREFIX = Uint8Array.of(0xa0, 0xe4, 0x02, 0x20);
/** Shortest digest accepted in a multihash, bytes. */
export const MIN_DIGEST_BYTES = 16;
/** Longest digest accepted in a multihash, bytes. */
export const MAX_DIGEST_BYTES = 64;
/** Longest hash text accepted, characters (a 64-byte digest fits). */
export const MAX_HASH_CHARS = 120;

/** base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'base64url',
  );
}

/**
 * Decodes base64url or standard base64, padded or not. Returns undefined
 * for anything else, including mixed alphabets, misplaced padding and
 * nonzero trailing bits (so each value has exactly one accepted spelling
 * per alphabet and padding choice).
 */
export function fromBase64(text: string): Uint8Array | undefined {
  const m = /^([A-Za-z0-9+/_-]*)(={0,2})$/.exec(text);
  if (!m) return undefined;
  const body = m[1] ?? '';
  const pad = m[2] ?? '';
  if (/[-_]/.test(body) && /[+/]/.test(body)) return undefined;
  if (body.length % 4 === 1) return undefined;
  if (pad.length > 0 && (body.length + pad.length) % 4 !== 0) return undefined;
  const url = body.replace(/\+/g, '-').replace(/\//g, '_');
  const bytes = Buffer.from(url, 'base64url');
  if (bytes.toString('base64url') !== url) return undefined;
  return new Uint8Array(bytes);
}

/** Reads an unsigned LEB128 varint of at most 9 bytes, minimally coded. */
function readVarint(
  b: Uint8Array,
  at: number,
): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 9 && at + i < b.length; i++) {
    const byte = b[at + i] ?? 0;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) return undefined; // not minimal
      return { value, next: at + i + 1 };
    }
  }
  return undefined;
}

/** Why `bytes` is not an acceptable multihash, or undefined if it is. */
function multihashProblem(bytes: Uint8Array): string | undefined {
  const code = readVarint(bytes, 0);
  if (!code) return 'bad multihash code';
  if (code.value === 0) return 'identity multihash is not a hash';
  const len = readVarint(bytes, code.next);
  if (!len) return 'bad multihash length';
  if (len.value !== bytes.length - len.next) {
    const actual = bytes.length - len.next;
    return `digest is ${actual} bytes, header says ${len.value}`;
  }
  if (len.value < MIN_DIGEST_BYTES || len.value > MAX_DIGEST_BYTES) {
    return (
      `digest length ${len.value} outside ${MIN_DIGEST_BYTES}..` +
      `${MAX_DIGEST_BYTES}`
    );
  }
  return undefined;
}

function invalid(input: string, reason: string): InvalidHashError {
  const shown = input.length > 60 ? input.slice(0, 60) + '...' : input;
  return new InvalidHashError(`invalid hash '${shown}': ${reason}`, {
    input: shown,
    reason,
  });
}

/**
 * Parses a multihash written in base64url or base64 (padding optional)
 * and returns its canonical form: base64url without padding.
 * @throws InvalidHashError naming the input and the reason.
 */
export function parseHash(text: string): EntityHash {
  if (text.length > MAX_HASH_CHARS) {
    throw invalid(text, `longer than ${MAX_HASH_CHARS} characters`);
  }
  const bytes = fromBase64(text.trim());
  if (!bytes) throw invalid(text, 'not base64url or base64');
  const problem = multihashProblem(bytes);
  if (problem) throw invalid(text, problem);
  return toBase64Url(bytes) as EntityHash;
}

/** The multihash bytes of a hash (any accepted spelling). */
export function hashToBytes(text: string): Uint8Array {
  const canonical = parseHash(text);
  return Buffer.from(canonical, 'base64url');
}

/** Whether `hash` names a BLAKE2b-256 multihash (our own objects). */
export function isBlake2bHash(hash: string): boolean {
  const b = fromBase64(hash);
  return (
    b !== undefined &&
    b.length === BLAKE2B_256_PREFIX.length + 32 &&
    BLAKE2B_256_PREFIX.every((v, i) => b[i] === v)
  );
}

/** The identifier of `bytes`: BLAKE2b-256 multihash, base64url. */
export function hashOf(bytes: Uint8Array): EntityHash {
  const mh = new Uint8Array(BLAKE2B_256_PREFIX.length + 32);
  mh.set(BLAKE2B_256_PREFIX, 0);
  mh.set(blake2b256(bytes), BLAKE2B_256_PREFIX.length);
  return toBase64Url(mh) as EntityHash;
}

/**
 * The revocation commitment of a 32-byte revocation secret: its plain
 * BLAKE2b-256. Publishing the secret to storage revokes every object that
 * carries this commitment.
 */
export function revocationCommitment(secret: Uint8Array): Uint8Array {
  return blake2b256(secret);
}

/** Constant-length comparison of two byte arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
