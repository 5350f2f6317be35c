import t from 'tap';
import fc from 'fast-check';
import {
  BLAKE2B_256_PREFIX,
  hashOf,
  hashToBytes,
  InvalidHashError,
  isBlake2bHash,
  parseHash,
  revocationCommitment,
} from '../../src/wave/index.ts';
import { blake2b256 } from '../../src/wave/sodium.ts';

const LEGACY = 'GyAlyQyfJuai4MCyg6Rx9KkxnZZXWyDaIo0EXGY9-WEq6w==';

void t.test('hash: object ids are 36-byte BLAKE2b-256 multihashes', (t) => {
  const h = hashOf(new Uint8Array([1, 2, 3]));
  const bytes = hashToBytes(h);
  t.equal(bytes.length, 36);
  t.same([...bytes.subarray(0, 4)], [...BLAKE2B_256_PREFIX]);
  t.same([...bytes.subarray(4)], [...blake2b256(new Uint8Array([1, 2, 3]))]);
  t.match(h, /^[A-Za-z0-9_-]{48}$/, 'base64url without padding');
  t.ok(isBlake2bHash(h));
  t.end();
});

void t.test(
  'hash: legacy Keccak-256 multihashes parse to canonical form',
  (t) => {
    const h = parseHash(LEGACY);
    t.equal(h, LEGACY.replace(/=+$/, ''));
    t.equal(hashToBytes(h).length, 34);
    t.notOk(isBlake2bHash(h));
    t.end();
  },
);

void t.test('hash: every accepted spelling gives one canonical id', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (data) => {
      const h = hashOf(data);
      const std = Buffer.from(h, 'base64url').toString('base64');
      return (
        parseHash(std) === h &&
        parseHash(std.replace(/=+$/, '')) === h &&
        parseHash(h + '=='.slice(0, (4 - (h.length % 4)) % 4)) === h &&
        parseHash(h) === h
      );
    }),
  );
  t.pass();
  t.end();
});

void t.test('hash: malformed ids are refused with the input named', (t) => {
  const good = hashOf(new Uint8Array([9]));
  const cases: [string, RegExp][] = [
    ['', /digest|code/],
    ['not base64!', /not base64/],
    [good.slice(0, -4), /digest is/],
    [
      Buffer.from([0x00, 0x20, ...new Uint8Array(32)]).toString('base64url'),
      /identity/,
    ],
    [
      Buffer.from([0x1b, 0x04, 1, 2, 3, 4]).toString('base64url'),
      /digest length 4/,
    ],
    [
      good.slice(0, 10) + '+' + good.slice(11, 20) + '-' + good.slice(21),
      /not base64/,
    ],
    [LEGACY.replace(/6w==$/, '6x=='), /not base64/],
    ['x'.repeat(200), /longer than/],
  ];
  for (const [input, reason] of cases) {
    try {
      parseHash(input);
      t.fail(`accepted ${input}`);
    } catch (err) {
      t.type(err, InvalidHashError);
      const e = err as InvalidHashError;
      t.match(e.message, reason, input);
      t.ok(e.message.includes(input.slice(0, 20)), 'names the input');
      t.equal(e.code, 'INVALID_HASH');
    }
  }
  t.end();
});

void t.test('hash: revocation commitment is BLAKE2b-256 of the secret', (t) => {
  const secret = new Uint8Array(32).fill(7);
  t.same([...revocationCommitment(secret)], [...blake2b256(secret)]);
  t.end();
});
