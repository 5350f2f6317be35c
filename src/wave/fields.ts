/**
 * Reading untrusted CBOR into wave objects: every field is checked for type
 * and size, and a bad one raises MalformedObjectError naming the object
 * kind and the field. Also the `{ tbs, sig }` envelope of signed objects.
 */
import { decode, encode } from '../wire/index.ts';
import { MalformedObjectError } from './errors.ts';

/** Largest encoded wave object accepted, bytes (a long proof fits). */
export const MAX_OBJECT_BYTES = 1024 * 1024;

/** Throws MalformedObjectError for `kind`. */
export function malformed(kind: string, reason: string): never {
  throw new MalformedObjectError(`malformed ${kind}: ${reason}`, {
    kind,
    reason,
  });
}

/** Typed access to the fields of a decoded CBOR map. */
export class Fields {
  private constructor(
    private readonly o: Record<string, unknown>,
    readonly kind: string,
  ) {}

  /** Wraps a decoded value that must be a map. */
  static of(v: unknown, kind: string): Fields {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return malformed(kind, 'not a map');
    }
    if (v instanceof Uint8Array) return malformed(kind, 'not a map');
    return new Fields(v as Record<string, unknown>, kind);
  }

  /** Decodes CBOR bytes that must hold a map. */
  static decode(bytes: Uint8Array, kind: string): Fields {
    if (bytes.length > MAX_OBJECT_BYTES) {
      return malformed(kind, `larger than ${MAX_OBJECT_BYTES} bytes`);
    }
    try {
      return Fields.of(decode(bytes), kind);
    } catch (err) {
      if (err instanceof MalformedObjectError) throw err;
      return malformed(kind, 'not CBOR');
    }
  }

  private fail(name: string, what: string): never {
    return malformed(this.kind, `field '${name}' must be ${what}`);
  }

  /** A byte string, copied; of exactly `length` bytes when given. */
  bytes(name: string, length?: number): Uint8Array {
    const v = this.o[name];
    if (!(v instanceof Uint8Array)) return this.fail(name, 'a byte string');
    if (length !== undefined && v.length !== length) {
      return this.fail(name, `${length} bytes`);
    }
    return new Uint8Array(v);
  }

  /** A byte string, or undefined when absent. */
  optBytes(name: string): Uint8Array | undefined {
    return this.o[name] === undefined ? undefined : this.bytes(name);
  }

  /** A string of at most `max` characters. */
  str(name: string, max = 1024): string {
    const v = this.o[name];
    if (typeof v !== 'string' || v.length > max) {
      return this.fail(name, `a string of at most ${max} characters`);
    }
    return v;
  }

  /** A safe integer in [min, max]. */
  int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      return this.fail(name, 'an integer');
    }
    if (v < min || v > max) return this.fail(name, `in ${min}..${max}`);
    return v;
  }

  /** A list of at most `max` items. */
  list(name: string, max: number): unknown[] {
    const v = this.o[name];
    if (!Array.isArray(v) || v.length > max) {
      return this.fail(name, `a list of at most ${max} items`);
    }
    return v;
  }

  /** A nested map. */
  map(name: string): Fields {
    return Fields.of(this.o[name], `${this.kind} ${name}`);
  }

  /** Checks that field `name` holds exactly `value`. */
  expect(name: string, value: string | number): void {
    if (this.o[name] !== value) this.fail(name, JSON.stringify(value));
  }

  /** Checks the `type` and `v` (format version) fields. */
  expectType(type: string, version: number): void {
    this.expect('type', type);
    this.expect('v', version);
  }
}

/** A signed object: the to-be-signed bytes and the signature over them. */
export interface Signed {
  tbs: Uint8Array;
  sig: Uint8Array;
}

/** Encodes the envelope of a signed object. */
export function encodeSigned(s: Signed): Uint8Array {
  return encode({ tbs: s.tbs, sig: s.sig });
}

/** Decodes the envelope of a signed object (bytes are copied). */
export function decodeSigned(bytes: Uint8Array, kind: string): Signed {
  const f = Fields.decode(bytes, kind);
  return { tbs: f.bytes('tbs'), sig: f.bytes('sig') };
}

const utf8 = new TextEncoder();

/**
 * What a signature of a `kind` object covers: a fixed context string, a
 * zero byte, then the tbs bytes. The context keeps a signature made for
 * one kind of object (or by `Entity.sign` on caller data that does not
 * start with this context) from passing as another.
 */
export function signedMessage(kind: string, tbs: Uint8Array): Uint8Array {
  const ctx = utf8.encode(`wavemq/v1/${kind}`);
  const out = new Uint8Array(ctx.length + 1 + tbs.length);
  out.set(ctx, 0);
  out.set(tbs, ctx.length + 1);
  return out;
}
