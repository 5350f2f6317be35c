import t from 'tap';
import fc from 'fast-check';
import {
  decode,
  encode,
  MalformedCborError,
  WIRE_ERROR_CODES,
} from '../../src/wire/index.ts';
import * as wireErrors from '../../src/wire/errors.ts';

void t.test('codec: objects, numbers, strings and bytes round trip', (t) => {
  const value = {
    t: 'pub',
    id: 7,
    big: 2 ** 40,
    neg: -3,
    f: 1.5,
    s: 'héllo',
    list: [1, 'two', null, true],
    nested: { a: { b: [] } },
  };
  t.same(decode(encode(value)), value);
  t.end();
});

void t.test('codec: Uint8Array and Buffer both come back as Buffer', (t) => {
  const u8 = new Uint8Array([1, 2, 3]);
  const buf = Buffer.from([4, 5]);
  t.same(Buffer.from(encode(u8)), Buffer.from(encode(Buffer.from(u8))));
  const out = decode(encode({ u8, buf })) as Record<string, unknown>;
  t.ok(Buffer.isBuffer(out['u8']));
  t.ok(Buffer.isBuffer(out['buf']));
  t.same([...(out['u8'] as Buffer)], [1, 2, 3]);
  t.same([...(out['buf'] as Buffer)], [4, 5]);
  t.end();
});

void t.test('codec: rejects empty, truncated and trailing input', (t) => {
  const good = encode({ a: 1, b: 'x' });
  const cases = [
    new Uint8Array(0),
    good.subarray(0, good.byteLength - 1),
    Buffer.concat([good, Buffer.from([0])]),
    new Uint8Array([0xff]),
  ];
  for (const bytes of cases) {
    t.throws(() => decode(bytes), MalformedCborError);
  }
  const err = t.throws(() => decode(new Uint8Array([0x82, 0x01])));
  t.equal((err as MalformedCborError).code, 'MALFORMED_CBOR');
  t.same((err as MalformedCborError).data, { length: 2 });
  t.end();
});

void t.test('codec: random bytes only ever throw MalformedCborError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decode(bytes);
      } catch (err) {
        if (!(err instanceof MalformedCborError)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
  t.end();
});

void t.test('codec: deep nesting is refused, not a crash', (t) => {
  const deep = new Uint8Array(200_000).fill(0x81);
  t.throws(() => decode(deep), MalformedCborError);
  t.end();
});

void t.test('codec: every wire error code has a table entry', (t) => {
  const numbers = new Set<number>();
  for (const [name, ctor] of Object.entries(wireErrors)) {
    if (typeof ctor !== 'function' || !name.endsWith('Error')) continue;
    const err = new (ctor as new (m: string, d: object) => { code: string })(
      'x',
      {},
    );
    t.ok(err.code in WIRE_ERROR_CODES, `${name} (${err.code}) has a code`);
  }
  for (const n of Object.values(WIRE_ERROR_CODES)) {
    t.notOk(numbers.has(n), `code ${n} is used once`);
    numbers.add(n);
  }
  t.end();
});
