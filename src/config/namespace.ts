import type { NamespaceId } from '../common/index.ts';

// Multihash prefixes of the two namespace hash kinds a config may name:
// ours (BLAKE2b-256: code 0xb220 as a varint, then length 32) and the
// original WAVE's (Keccak-256: code 0x1b, then length 32).
const BLAKE2B_256_PREFIX = [0xa0, 0xe4, 0x02, 0x20];
const KECCAK_256_PREFIX = [0x1b, 0x20];
const DIGEST_BYTES = 32;

/** What a namespace value must look like, for error messages. */
export const NAMESPACE_EXPECTED =
  'a namespace hash: base64url (or base64) of a BLAKE2b-256 multihash ' +
  '(36 bytes) or a Keccak-256 multihash (34 bytes)';

/**
 * Decodes a namespace hash written in a config file and returns it as
 * base64url without padding, or undefined when the text is not one.
 * Accepts base64url and standard base64, padded or not, of a BLAKE2b-256
 * multihash (`a0 e4 02 20` + 32 bytes) or a Keccak-256 multihash
 * (`1b 20` + 32 bytes, as in configs written for the original WAVEMQ).
 *
 * This small check lives here rather than in wave/ because config needs
 * only these two byte layouts, and importing wave/ would load its native
 * crypto into every config read; it follows wave's base64 rules (one
 * alphabet per value, no stray bits).
 */
export function canonicalNamespace(text: string): NamespaceId | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const bare = text.replace(/=+$/, '');
  if (/[-_]/.test(bare) && /[+/]/.test(bare)) return undefined;
  if (text.length !== bare.length && text.length % 4 !== 0) return undefined;
  const url = bare.replace(/\+/g, '-').replace(/\//g, '_');
  const bytes = Buffer.from(url, 'base64url');
  // Re-encoding must give the same text, or the input had stray bits.
  if (bytes.toString('base64url') !== url) return undefined;
  if (!isNamespaceMultihash(bytes)) return undefined;
  return url as NamespaceId;
}

function isNamespaceMultihash(bytes: Uint8Array): boolean {
  return [BLAKE2B_256_PREFIX, KECCAK_256_PREFIX].some(
    (prefix) =>
      bytes.length === prefix.length + DIGEST_BYTES &&
      prefix.every((b, i) => bytes[i] === b),
  );
}
