import t from 'tap';
import type { NamespaceId } from '../../src/common/ids.ts';
import {
  Attestation,
  InvalidPatternError,
  MalformedProofError,
  NoProofFoundError,
  Proof,
  ProofSignatureError,
} from '../../src/wave/index.ts';
import { flip, grant, HOUR_MS, world } from './fixtures.ts';

void t.test('proof build: finds a direct grant from the namespace', (t) => {
  const { clock, ns, nsId, entity } = world();
  const s = entity();
  const a = grant(ns, s, { namespace: nsId, clock, resource: 'a/*' });
  const p = Proof.build({
    subject: s.hash,
    namespace: nsId,
    permissions: ['publish'],
    resource: 'a/b',
    attestations: [a],
    clock,
  });
  t.same(
    p.path.map((x) => x.hash),
    [a.hash],
  );
  t.equal(p.subject, s.hash);
  t.equal(p.namespace, nsId);
  t.equal(p.expiresAtMs, a.notAfterMs);
  const back = Proof.decode(p.bytes);
  t.equal(back.hash, p.hash);
  t.same(
    back.path.map((x) => x.hash),
    [a.hash],
  );
  t.end();
});

void t.test(
  'proof build: follows delegations that allow enough indirections',
  (t) => {
    const { clock, ns, nsId, entity } = world();
    const [a, b, s] = [entity(), entity(), entity()];
    const l0 = grant(ns, a, { namespace: nsId, clock, indirections: 2 });
    const l1 = grant(a, b, { namespace: nsId, clock, indirections: 1 });
    const l2 = grant(b, s, { namespace: nsId, clock });
    const noise = grant(entity(), s, { namespace: nsId, clock });
    const p = Proof.build({
      subject: s.hash,
      namespace: nsId,
      permissions: ['publish', 'subscribe'],
      resource: 'x/y',
      attestations: [noise, l2, l1, l0],
      clock,
    });
    t.same(
      p.path.map((x) => x.hash),
      [l0.hash, l1.hash, l2.hash],
    );
    t.end();
  },
);

void t.test('proof build: prefers the shortest path', (t) => {
  const { clock, ns, nsId, entity } = world();
  const [a, s] = [entity(), entity()];
  const long0 = grant(ns, a, { namespace: nsId, clock, indirections: 1 });
  const long1 = grant(a, s, { namespace: nsId, clock });
  const direct = grant(ns, s, { namespace: nsId, clock });
  const p = Proof.build({
    subject: s.hash,
    namespace: nsId,
    permissions: ['publish'],
    resource: 'x',
    attestations: [long0, long1, direct],
    clock,
  });
  t.same(
    p.path.map((x) => x.hash),
    [direct.hash],
  );
  t.end();
});

void t.test('proof build: refuses paths that break a rule', (t) => {
  const { clock, ns, nsId, entity } = world();
  const [a, s] = [entity(), entity()];
  const other = entity().hash as string as NamespaceId;
  const build =
    (attestations: Attestation[], resource = 'x/y') =>
    () =>
      Proof.build({
        subject: s.hash,
        namespace: nsId,
        permissions: ['publish'],
        resource,
        attestations,
        clock,
      });
  t.throws(
    build([
      grant(ns, a, { namespace: nsId, clock }),
      grant(a, s, { namespace: nsId, clock }),
    ]),
    NoProofFoundError,
    'indirections 0 forbid a second link',
  );
  t.throws(
    build([grant(ns, s, { namespace: other, clock })]),
    NoProofFoundError,
    'other namespace',
  );
  t.throws(
    build([grant(a, s, { namespace: nsId, clock })]),
    NoProofFoundError,
    'not from the namespace',
  );
  t.throws(
    build([
      grant(ns, s, { namespace: nsId, clock, permissions: ['subscribe'] }),
    ]),
    { name: 'NoProofFoundError', message: /: no publish on x\/y\)/ },
    'permission',
  );
  t.throws(
    build([grant(ns, s, { namespace: nsId, clock, resource: 'x/+' })], 'x/*'),
    NoProofFoundError,
    'resource not covered',
  );
  const soon = grant(ns, s, { namespace: nsId, clock, expiryMs: 1000 });
  clock.advance(1000);
  t.throws(build([soon]), NoProofFoundError, 'expired');
  t.throws(
    build([soon]),
    {
      message: new RegExp(
        `\\(0 of 1 attestations usable: the nearest path breaks a rule: ` +
          `grant ${soon.hash}: grant expired \\d{4}-`,
      ),
    },
    'the error says the grant expired, and when',
  );
  t.throws(
    build([
      grant(ns, s, { namespace: nsId, clock, notBeforeMs: clock.now() + 10 }),
    ]),
    NoProofFoundError,
    'not yet valid',
  );
  t.throws(build([]), {
    message:
      `no grant of publish on x/y in namespace ${nsId} for entity ` +
      `${s.hash} (0 of 0 attestations usable)`,
  });
  t.throws(build([], 'x//y'), InvalidPatternError);
  t.end();
});

void t.test(
  'proof build: a path that breaks only indirections is explained, naming the grant',
  (t) => {
    const { clock, ns, nsId, entity } = world();
    const [a, b, s] = [entity(), entity(), entity()];
    const l0 = grant(ns, a, { namespace: nsId, clock, indirections: 1 });
    const l1 = grant(a, b, { namespace: nsId, clock, indirections: 0 });
    const l2 = grant(b, s, { namespace: nsId, clock });
    const build = () =>
      Proof.build({
        subject: s.hash,
        namespace: nsId,
        permissions: ['publish'],
        resource: 'x/y',
        attestations: [l0, l1, l2],
        clock,
      });
    t.throws(build, {
      code: 'NO_PROOF_FOUND',
      message:
        `no grant of publish on x/y in namespace ${nsId} for entity ` +
        `${s.hash} (3 of 3 attestations usable: the nearest path breaks ` +
        `a rule: grant ${l0.hash}: allows 1 further delegations but 2 ` +
        `follow it; grant ${l1.hash}: allows 0 further delegations but 1 ` +
        `follow it)`,
    });
    t.end();
  },
);

void t.test(
  'proof build: the nearest path names each grant and the rule it breaks',
  (t) => {
    const { clock, ns, nsId, entity } = world();
    const [a, s] = [entity(), entity()];
    const build = (attestations: Attestation[]) => () =>
      Proof.build({
        subject: s.hash,
        namespace: nsId,
        permissions: ['publish'],
        resource: 'x/y',
        attestations,
        clock,
      });
    const sub = grant(ns, a, {
      namespace: nsId,
      clock,
      indirections: 1,
      permissions: ['subscribe'],
    });
    const last = grant(a, s, { namespace: nsId, clock });
    t.throws(build([sub, last]), {
      message: new RegExp(
        `\\(1 of 2 attestations usable: the nearest path breaks a rule: ` +
          `grant ${sub.hash}: no publish on x/y\\)$`,
      ),
    });
    t.throws(build([last]), {
      message:
        /\(1 of 1 attestations usable; no chain of grants leads from the namespace to the entity\)$/,
    });
    t.end();
  },
);

void t.test(
  'proof build: expiry is the earliest on the path, entities too',
  (t) => {
    const { clock, ns, nsId, entity } = world();
    const a = entity({ expiryMs: 2 * HOUR_MS });
    const s = entity({ expiryMs: HOUR_MS / 2 });
    const l0 = grant(ns, a, { namespace: nsId, clock, indirections: 1 });
    const l1 = grant(a, s, { namespace: nsId, clock, expiryMs: 3 * HOUR_MS });
    const p = Proof.fromPath([l0, l1]);
    t.equal(p.expiresAtMs, s.publicEntity.notAfterMs);
    t.end();
  },
);

void t.test('proof decode: refuses malformed and forged bytes', (t) => {
  const { clock, ns, nsId, entity } = world();
  const s = entity();
  const p = Proof.fromPath([grant(ns, s, { namespace: nsId, clock })]);
  t.throws(() => Proof.decode(new Uint8Array([0xa0])), MalformedProofError);
  t.throws(() => Proof.decode(new Uint8Array(0)), MalformedProofError);
  t.throws(() => Proof.fromPath([]), { message: /1..16 attestations/ });
  const sigAt = Buffer.from(p.bytes).lastIndexOf(
    Buffer.from(p.path[0]!.bytes.subarray(-64)),
  );
  t.ok(sigAt > 0);
  t.throws(() => Proof.decode(flip(p.bytes, sigAt + 10)), ProofSignatureError);
  t.end();
});
