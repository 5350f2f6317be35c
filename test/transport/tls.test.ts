import t from 'tap';
import { X509Certificate, createPrivateKey, sign, verify } from 'node:crypto';
import {
  InvalidSeedError,
  createTlsIdentity,
  ed25519KeyOfCert,
} from '../../src/transport/index.ts';

const seed = new Uint8Array(32).map((_, i) => i);

void t.test(
  'tls identity: the same seed gives the same certificate',
  async (t) => {
    const a = await createTlsIdentity(seed);
    const b = await createTlsIdentity(seed);
    t.equal(a.certPem, b.certPem);
    t.equal(a.publicKey.byteLength, 32);
    const other = await createTlsIdentity(new Uint8Array(32).fill(1));
    t.not(
      Buffer.from(other.publicKey).toString('hex'),
      Buffer.from(a.publicKey).toString('hex'),
    );
  },
);

void t.test('tls identity: the certificate holds the seed key', async (t) => {
  const id = await createTlsIdentity(seed);
  const cert = new X509Certificate(id.certPem);
  t.same(ed25519KeyOfCert(cert.raw), id.publicKey);
  t.ok(cert.verify(cert.publicKey), 'self-signed with that key');
  const message = Buffer.from('entity key check');
  const sig = sign(null, message, createPrivateKey(id.keyPem));
  t.ok(verify(null, message, cert.publicKey, sig), 'keyPem matches');
  t.match(cert.validTo, /9999/, 'pinned by key, not dates');
});

void t.test(
  'tls identity: a seed that is not 32 bytes is refused',
  async (t) => {
    await t.rejects(createTlsIdentity(new Uint8Array(31)), InvalidSeedError);
    t.equal(ed25519KeyOfCert(new Uint8Array([1, 2, 3])), undefined);
  },
);
