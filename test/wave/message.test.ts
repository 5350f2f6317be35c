import t from 'tap';
import fc from 'fast-check';
import type { EntityHash, NamespaceId } from '../../src/common/ids.ts';
import {
  Entity,
  InvalidArgumentError,
  messageDigest,
  requestDigest,
  signDigests,
  SignatureVerifier,
  type MessageFields,
  type MessageSignature,
} from '../../src/wave/index.ts';
import { blake2b256 } from '../../src/wave/sodium.ts';

const signer = Entity.create();
const key = signer.publicEntity.signingKey;

function fields(i: number): MessageFields {
  return {
    namespace: signer.hash as string as NamespaceId,
    uri: `sensors/temp/${i}`,
    payloads: [{ schema: 'text', content: new Uint8Array([i & 255]) }],
    publisher: signer.hash,
    originRouter: 'router-1',
    sessionId: 'session-1',
    seq: i,
    publishedAtMs: 1_700_000_000_000 + i,
    persist: false,
    proofHash: signer.hash,
  };
}

void t.test('message digest: every field changes the digest', (t) => {
  const base = fields(1);
  const d0 = Buffer.from(messageDigest(base)).toString('hex');
  t.equal(messageDigest(base).length, 32);
  const changes: Partial<MessageFields>[] = [
    { namespace: 'other' as NamespaceId },
    { uri: 'sensors/temp/2' },
    { payloads: [{ schema: 'json', content: new Uint8Array([1]) }] },
    { payloads: [{ schema: 'text', content: new Uint8Array([2]) }] },
    { payloads: [...base.payloads, ...base.payloads] },
    { publisher: 'p' as EntityHash },
    { originRouter: 'router-2' },
    { sessionId: 'session-2' },
    { seq: 2 },
    { publishedAtMs: base.publishedAtMs + 1 },
    { persist: true },
    { proofHash: 'h' as EntityHash },
  ];
  const seen = new Set([d0]);
  for (const c of changes) {
    seen.add(Buffer.from(messageDigest({ ...base, ...c })).toString('hex'));
  }
  t.equal(seen.size, changes.length + 1);
  // Length framing: moving bytes between adjacent fields changes the digest.
  const a = messageDigest({ ...base, originRouter: 'ab', sessionId: 'c' });
  const b = messageDigest({ ...base, originRouter: 'a', sessionId: 'bc' });
  t.notSame([...a], [...b]);
  t.end();
});

void t.test('message digest: non-integer sequence numbers are refused', (t) => {
  t.throws(
    () => messageDigest({ ...fields(1), seq: 1.5 }),
    InvalidArgumentError,
  );
  t.throws(
    () => messageDigest({ ...fields(1), seq: -1 }),
    InvalidArgumentError,
  );
  t.throws(
    () =>
      requestDigest({
        kind: 'query',
        ns: 'n',
        pattern: 'a',
        requester: 'r',
        id: '',
        expiryMs: 0.5,
        ts: 0,
        proofHash: 'h',
      }),
    InvalidArgumentError,
  );
  t.end();
});

void t.test('request digest: binds kind, pattern, requester and time', (t) => {
  const r = {
    kind: 'subscribe' as const,
    ns: 'n',
    pattern: 'a/*',
    requester: 'r',
    id: 'sub1',
    expiryMs: 60_000,
    ts: 5,
    proofHash: 'h',
  };
  const d = Buffer.from(requestDigest(r)).toString('hex');
  for (const c of [
    { kind: 'query' as const },
    { pattern: 'a/+' },
    { requester: 's' },
    { ts: 6 },
    { id: 'sub2' },
    { expiryMs: 1 },
  ]) {
    t.not(Buffer.from(requestDigest({ ...r, ...c })).toString('hex'), d);
  }
  t.ok(
    signer.publicEntity.verify(requestDigest(r), signer.sign(requestDigest(r))),
  );
  t.end();
});

void t.test('batch signature: one Ed25519 verify covers the batch', (t) => {
  const digests = Array.from({ length: 5 }, (_, i) => messageDigest(fields(i)));
  const sigs = signDigests(signer, digests);
  t.equal(sigs.length, 5);
  t.equal(sigs[0]!.path.length, 3, 'five leaves pad to eight');
  const v = new SignatureVerifier();
  digests.forEach((d, i) => t.ok(v.verify(d, sigs[i]!, key), `message ${i}`));
  t.same(v.stats, { verifies: 1, rootHits: 4, failures: 0 });
  t.end();
});

void t.test('batch signature: a batch of one has an empty path', (t) => {
  const d = messageDigest(fields(0));
  const [sig] = signDigests(signer, [d]);
  t.same(sig!.path, []);
  t.ok(new SignatureVerifier().verify(d, sig!, key));
  t.same(signDigests(signer, []), []);
  t.end();
});

function tamper(sig: MessageSignature, what: string): MessageSignature {
  const flipped = (b: Uint8Array) => {
    const c = new Uint8Array(b);
    c[0] = (c[0] ?? 0) ^ 1;
    return c;
  };
  switch (what) {
    case 'root':
      return { ...sig, root: flipped(sig.root) };
    case 'signature':
      return { ...sig, signature: flipped(sig.signature) };
    case 'index':
      return { ...sig, index: sig.index ^ 1 };
    case 'path':
      return {
        ...sig,
        path: sig.path.map((p, i) => (i === 0 ? flipped(p) : p)),
      };
    default:
      return { ...sig, path: sig.path.slice(1) };
  }
}

void t.test(
  'batch signature: tampering any message or signature part fails',
  (t) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.nat(),
        fc.constantFrom(
          'message',
          'root',
          'signature',
          'index',
          'path',
          'depth',
        ),
        (n, pick, what) => {
          const digests = Array.from({ length: n }, (_, i) =>
            messageDigest(fields(i)),
          );
          const sigs = signDigests(signer, digests);
          const i = pick % n;
          const v = new SignatureVerifier();
          // A fresh verifier and one that has already accepted the root.
          const warm = new SignatureVerifier();
          warm.verify(digests[(i + 1) % n]!, sigs[(i + 1) % n]!, key);
          const d =
            what === 'message'
              ? messageDigest({ ...fields(i), uri: 'sensors/forged' })
              : digests[i]!;
          const s = what === 'message' ? sigs[i]! : tamper(sigs[i]!, what);
          const skipsSignature = what === 'signature';
          return (
            !v.verify(d, s, key) && (skipsSignature || !warm.verify(d, s, key))
          );
        },
      ),
      { numRuns: 200 },
    );
    t.pass();
    t.end();
  },
);

void t.test('batch signature: another key is refused', (t) => {
  const d = messageDigest(fields(0));
  const [sig] = signDigests(signer, [d]);
  const other = Entity.create().publicEntity.signingKey;
  const v = new SignatureVerifier();
  t.ok(v.verify(d, sig!, key));
  t.notOk(v.verify(d, sig!, other), 'a cached root is per key');
  t.end();
});

void t.test('batch signature: the root cache is bounded', (t) => {
  const batches = [0, 1, 2].map((b) => {
    const ds = [
      messageDigest(fields(10 * b)),
      messageDigest(fields(10 * b + 1)),
    ];
    return { ds, sigs: signDigests(signer, ds) };
  });
  const v = new SignatureVerifier({ maxRoots: 2 });
  for (const { ds, sigs } of batches) v.verify(ds[0]!, sigs[0]!, key);
  v.verify(batches[2]!.ds[1]!, batches[2]!.sigs[1]!, key);
  t.equal(v.stats.rootHits, 1);
  v.verify(batches[0]!.ds[1]!, batches[0]!.sigs[1]!, key);
  t.equal(v.stats.verifies, 4, 'the first root was evicted');
  t.end();
});

void t.test('batch signature: an inner node cannot pass as a message', (t) => {
  const digests = [0, 1, 2, 3].map((i) => messageDigest(fields(i)));
  const sigs = signDigests(signer, digests);
  const s0 = sigs[0]!;
  // The sibling of leaf 0 is leaf 1; hashing them gives inner node 0.
  const leaf0 = blake2b256(Uint8Array.of(0), digests[0]!);
  const node0 = blake2b256(Uint8Array.of(1), leaf0, s0.path[0]!);
  const v = new SignatureVerifier();
  t.ok(v.verify(digests[0]!, s0, key));
  t.notOk(v.verify(node0, { ...s0, index: 0, path: [s0.path[1]!] }, key));
  t.notOk(v.verify(node0, { ...s0, index: 0, path: [] }, key));
  t.end();
});
