import fc from 'fast-check';
import t from 'tap';
import {
  canonicalNamespace,
  formatHostPort,
  InvalidAddressError,
  parseHostPort,
} from '../../src/config/index.ts';

t.test('host:port: parses names, IPv4 and bracketed IPv6', async (t) => {
  t.same(parseHostPort('wavemq.xbos.io:4515'), {
    host: 'wavemq.xbos.io',
    port: 4515,
  });
  t.same(parseHostPort('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  t.same(parseHostPort('[::1]:65535'), { host: '::1', port: 65535 });
  t.same(parseHostPort('localhost:80'), { host: 'localhost', port: 80 });
});

t.test('host:port: rejects text that is not an address', async (t) => {
  for (const text of [
    '',
    'a',
    'a:',
    ':1',
    'a:1:2',
    '[::1]',
    'a:+1',
    'a: 1',
    '[::1]:0',
    'a:70000',
    'under_score:1',
    '-a:1',
    'a b:1',
  ]) {
    t.throws(() => parseHostPort(text), InvalidAddressError, text);
  }
  const err = t.throws(() => parseHostPort('::1:4515')) as unknown;
  t.ok(err instanceof InvalidAddressError);
  if (err instanceof InvalidAddressError) {
    t.equal(err.code, 'ADDRESS_INVALID');
    t.same(err.data.address, '::1:4515');
    t.match(err.data.reason, /brackets/);
  }
});

t.test('host:port: format and parse round trip', async (t) => {
  const host = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.domain().filter((d) => d.length <= 253),
  );
  const port = fc.integer({ min: 1, max: 65535 });
  fc.assert(
    fc.property(host, port, (h, p) => {
      const parsed = parseHostPort(formatHostPort({ host: h, port: p }));
      return parsed.host === h && parsed.port === p;
    }),
  );
  t.equal(formatHostPort({ host: '::1', port: 4515 }), '[::1]:4515');
  t.equal(formatHostPort({ host: '10.0.0.1', port: 4515 }), '10.0.0.1:4515');
});

const KECCAK = [0x1b, 0x20];
const BLAKE2B = [0xa0, 0xe4, 0x02, 0x20];

t.test('namespace: both hash kinds in any spelling canonicalise', async () => {
  const digest = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const prefix = fc.constantFrom(KECCAK, BLAKE2B);
  fc.assert(
    fc.property(prefix, digest, fc.boolean(), (pre, d, padded) => {
      const bytes = Buffer.concat([Buffer.from(pre), d]);
      const url = bytes.toString('base64url');
      const std = bytes.toString('base64');
      const spelled = padded ? std : std.replace(/=+$/, '');
      return (
        canonicalNamespace(url) === url && canonicalNamespace(spelled) === url
      );
    }),
  );
});

t.test('namespace: other lengths, codes and alphabets fail', async (t) => {
  const d = Buffer.alloc(32, 0xfb);
  const ok = Buffer.concat([Buffer.from(KECCAK), d]);
  t.ok(canonicalNamespace(ok.toString('base64url')));
  const wrong = [
    Buffer.concat([Buffer.from([0x12, 0x20]), d]), // SHA-256
    Buffer.concat([Buffer.from(KECCAK), d.subarray(1)]),
    Buffer.concat([Buffer.from(BLAKE2B), d, Buffer.of(0)]),
  ];
  for (const b of wrong) {
    t.equal(canonicalNamespace(b.toString('base64url')), undefined);
  }
  // One value must not mix the two alphabets.
  const url = ok.toString('base64url');
  const mixed = url.replace('-', '+');
  t.ok(mixed.includes('+') && mixed.includes('_'));
  t.equal(canonicalNamespace(mixed), undefined);
  t.equal(canonicalNamespace(`${ok.toString('base64url')}=`), undefined);
  t.equal(
    canonicalNamespace('the namespace you are interacting with'),
    undefined,
  );
});
