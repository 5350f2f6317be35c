import t from 'tap';
import type { EntityHash, NamespaceId } from '../../src/common/ids.ts';
import {
  Attestation,
  DEFAULT_ATTESTATION_EXPIRY_MS,
  Entity,
  InvalidArgumentError,
  InvalidHashError,
  MalformedObjectError,
  ObjectSignatureError,
  revocationCommitment,
} from '../../src/wave/index.ts';
import { signObject } from '../../src/wave/entity.ts';
import { encodeSigned } from '../../src/wave/fields.ts';
import { decode, encode } from '../../src/wire/index.ts';
import { flip, grant, world } from './fixtures.ts';

void t.test('attestation: round trips with every field', (t) => {
  const { clock, ns, nsId, entity } = world();
  const s = entity();
  const a = Attestation.create(ns, {
    subject: s.hash,
    namespace: nsId,
    statements: [{ permissions: ['publish'], resource: 'a/+' }],
    clock,
  });
  t.equal(a.indirections, 0, 'indirections default to 0');
  t.equal(a.notAfterMs, clock.now() + DEFAULT_ATTESTATION_EXPIRY_MS);
  t.equal(a.subjectEntity, undefined);
  const b = Attestation.decode(a.bytes);
  t.equal(b.hash, a.hash);
  t.equal(b.attester, ns.hash);
  t.equal(b.attesterEntity.hash, ns.hash);
  t.equal(b.subject, s.hash);
  t.equal(b.namespace, nsId);
  t.same(b.statements, [{ permissions: ['publish'], resource: 'a/+' }]);
  t.ok(b.grants('publish', 'a/x'));
  t.notOk(b.grants('publish', 'a/*'));
  t.notOk(b.grants('subscribe', 'a/x'));
  t.ok(Object.isFrozen(b.statements));
  t.end();
});

void t.test('attestation: embeds the subject entity when given one', (t) => {
  const { clock, ns, nsId, entity } = world();
  const s = entity();
  const a = grant(ns, s, { namespace: nsId, clock, indirections: 3 });
  t.equal(a.subjectEntity?.hash, s.hash);
  t.equal(Attestation.decode(a.bytes).indirections, 3);
  t.end();
});

void t.test('attestation: creation refuses bad input', (t) => {
  const { clock, ns, nsId } = world();
  const base = {
    subject: ns.hash,
    namespace: nsId,
    clock,
    statements: [{ permissions: ['publish' as const], resource: 'a' }],
  };
  t.throws(
    () => Attestation.create(ns, { ...base, statements: [] }),
    InvalidArgumentError,
  );
  t.throws(
    () =>
      Attestation.create(ns, {
        ...base,
        statements: [{ permissions: [], resource: 'a' }],
      }),
    InvalidArgumentError,
  );
  t.throws(
    () =>
      Attestation.create(ns, {
        ...base,
        statements: [{ permissions: ['fly' as 'publish'], resource: 'a' }],
      }),
    { message: /permissions must be distinct, from publish/ },
  );
  t.throws(
    () =>
      Attestation.create(ns, {
        ...base,
        statements: [{ permissions: ['publish'], resource: 'a//b' }],
      }),
    { message: /resource 'a\/\/b' is not a valid pattern/ },
  );
  t.throws(
    () => Attestation.create(ns, { ...base, indirections: -1 }),
    InvalidArgumentError,
  );
  t.throws(
    () => Attestation.create(ns, { ...base, indirections: 256 }),
    InvalidArgumentError,
  );
  t.throws(
    () => Attestation.create(ns, { ...base, subject: 'nope' as EntityHash }),
    InvalidHashError,
  );
  t.throws(
    () => Attestation.create(ns, { ...base, namespace: 'nope' as NamespaceId }),
    InvalidHashError,
  );
  t.end();
});

void t.test('attestation: every single-byte change is caught', (t) => {
  const { clock, ns, nsId, entity } = world();
  const bytes = grant(ns, entity().hash, { namespace: nsId, clock }).bytes;
  let caught = 0;
  for (let i = 0; i < bytes.length; i++) {
    try {
      Attestation.decode(flip(bytes, i));
    } catch (err) {
      if (!(
        err instanceof MalformedObjectError ||
        err instanceof ObjectSignatureError
      ))
        throw err;
      caught++;
    }
  }
  t.equal(caught, bytes.length);
  t.end();
});

/** A tbs like Attestation.create's, with `patch` applied, signed by `by`. */
function forge(
  a: Attestation,
  by: Entity,
  patch: Record<string, unknown>,
): Uint8Array {
  const env = decode(a.bytes) as { tbs: Uint8Array };
  const body = { ...(decode(env.tbs) as Record<string, unknown>), ...patch };
  const tbs = encode(body);
  return encodeSigned({ tbs, sig: signObject(by, 'attestation', tbs) });
}

void t.test(
  'attestation: naming the namespace but embedding another key fails',
  (t) => {
    const { clock, ns, nsId, entity } = world();
    const mallory = entity();
    const a = grant(ns, mallory.hash, { namespace: nsId, clock });
    const forged = forge(a, mallory, {
      attesterEntity: mallory.publicEntity.bytes,
    });
    t.throws(() => Attestation.decode(forged), {
      message: new RegExp(`embedded attesterEntity is ${mallory.hash}, not`),
    });
    t.throws(() => Attestation.decode(forged), ObjectSignatureError);
    const signedByOther = forge(a, mallory, {});
    t.throws(() => Attestation.decode(signedByOther), {
      message: /signature does not verify/,
    });
    t.ok(Attestation.decode(forge(a, ns, {})), 'the honest signer passes');
    t.end();
  },
);

void t.test(
  'attestation: signature of another object kind does not pass',
  (t) => {
    const { clock, ns, nsId } = world();
    const a = grant(ns, ns.hash, { namespace: nsId, clock });
    const env = decode(a.bytes) as { tbs: Uint8Array };
    const rawSig = ns.sign(env.tbs);
    t.throws(
      () => Attestation.decode(encodeSigned({ tbs: env.tbs, sig: rawSig })),
      ObjectSignatureError,
    );
    const asEntity = signObject(ns, 'entity', env.tbs);
    t.throws(
      () => Attestation.decode(encodeSigned({ tbs: env.tbs, sig: asEntity })),
      ObjectSignatureError,
    );
    t.end();
  },
);

void t.test(
  'attestation: revocation secret is derived from the attester',
  (t) => {
    const { clock, ns, nsId, entity } = world();
    const other = entity();
    const a = grant(ns, other.hash, { namespace: nsId, clock });
    const b = grant(ns, other.hash, { namespace: nsId, clock });
    const sa = a.revocationSecret(ns);
    t.same([...revocationCommitment(sa)], [...a.revocationCommitment]);
    t.notSame([...a.revocationCommitment], [...b.revocationCommitment]);
    const reread = Entity.decodeSecret(ns.encodeSecret());
    t.same([...Attestation.decode(a.bytes).revocationSecret(reread)], [...sa]);
    t.throws(() => a.revocationSecret(other), InvalidArgumentError);
    t.end();
  },
);
