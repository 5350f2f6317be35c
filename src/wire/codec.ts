import { Encoder } from 'cbor-x';
import { WavemqError } from '../common/index.ts';

/**
 * Bytes that are not one well-formed CBOR item (truncated, trailing bytes,
 * reserved codes). `data.length` is the input size in bytes.
 */
export class MalformedCborError extends WavemqError<{ length: number }> {
  readonly code = 'MALFORMED_CBOR';
}

// Plain maps and untagged byte strings: every peer reads the same bytes
// without any shared record definitions, and byte strings decode as Buffer.
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
});

/** CBOR encoding of `value`; Uint8Array and Buffer become byte strings. */
export function encode(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/**
 * Decodes exactly one CBOR item. Byte strings come back as Buffer (a
 * Uint8Array) that may share memory with `bytes`.
 * @throws MalformedCborError when `bytes` is not exactly one CBOR item.
 */
export function decode(bytes: Uint8Array): unknown {
  try {
    return encoder.decode(bytes) as unknown;
  } catch (err) {
    throw new MalformedCborError(
      'malformed CBOR: ' + (err instanceof Error ? err.message : String(err)),
      { length: bytes.length },
      { cause: err },
    );
  }
}
