/**
 * Armored text files, like PEM: a BEGIN line naming the kind, the bytes in
 * standard base64 with 64-character lines, and an END line.
 */
import { fromBase64 } from './hash.ts';
import { malformed } from './fields.ts';

/** Labels of the armored files wave/ writes. */
export const LABELS = {
  entitySecret: 'WAVEMQ ENTITY SECRET',
  entity: 'WAVEMQ ENTITY',
  attestation: 'WAVEMQ ATTESTATION',
  proof: 'WAVEMQ PROOF',
} as const;

/** One of {@link LABELS}. */
export type ArmorLabel = (typeof LABELS)[keyof typeof LABELS];

/** Longest armored text read, characters. */
export const MAX_ARMOR_CHARS = 4 * 1024 * 1024;

/** `bytes` as armored text with `label`, ending in a newline. */
export function armor(label: ArmorLabel, bytes: Uint8Array): string {
  const b64 = Buffer.from(
    bytes.buffer,
    bytes.byteOffset,
    bytes.byteLength,
  ).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return [
    `-----BEGIN ${label}-----`,
    ...lines,
    `-----END ${label}-----`,
    '',
  ].join('\n');
}

/**
 * The label and bytes of the first armored block in `text`.
 * @throws MalformedObjectError when there is none or it is not base64.
 */
export function dearmor(text: string): { label: string; bytes: Uint8Array } {
  if (text.length > MAX_ARMOR_CHARS) {
    return malformed('file', `longer than ${MAX_ARMOR_CHARS} characters`);
  }
  const m =
    /-----BEGIN ([A-Z ]{1,40})-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return malformed('file', 'no -----BEGIN WAVEMQ ...----- block');
  const label = m[1] ?? '';
  const bytes = fromBase64((m[2] ?? '').replace(/\s+/g, ''));
  if (!bytes) return malformed('file', `${label} block is not base64`);
  return { label, bytes };
}

/** The bytes of an armored block that must carry `label`. */
export function dearmorAs(text: string, label: ArmorLabel): Uint8Array {
  const d = dearmor(text);
  if (d.label !== label) {
    return malformed('file', `holds ${d.label}, expected ${label}`);
  }
  return d.bytes;
}
