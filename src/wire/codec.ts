import { Encoder } from 'cbor-x';
import { MalformedCborError } from './errors.ts';

// Kept importable from here: the error was first declared in this module.
export { MalformedCborError };

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
    // cbor-x throws plain Errors, and RangeError for absurd nesting; every
    // one becomes our named error with the original as its cause.
    throw new MalformedCborError(
      'malformed CBOR: ' + (err instanceof Error ? err.message : String(err)),
      { length: bytes.length },
      { cause: err },
    );
  }
}
