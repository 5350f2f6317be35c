/**
 * One test per verification rule. Each builds a proof that breaks only
 * that rule, so removing the rule from the verifier makes its test fail.
 */
import t from 'tap';
import type { NamespaceId } from '../../src/common/ids.ts';
import {
  Attestation,
  PermissionDeniedError,
  Proof,
  ProofChainError,
  ProofExpiredError,
  ProofIndirectionError,
  ProofNamespaceError,
  ProofNotYetValidError,
  ProofRevokedError,
  ProofSignatureError,
  ProofSubjectError,
  RevocationUnavailableError,
  MalformedProofError,
  Verifier,
  type AccessRequest,
  type RevocationChecker,
} from '../../src/wave/index.ts';
import { toBase64Url } from '../../src/wave/hash.ts';
import { flip, grant, HOUR_MS, world } from './fixtures.ts';

function setup() {
  const w = world();
  const [a, s] = [w.entity(), w.entity()];
  const g = { namespace: w.nsId, clock: w.clock };
  const req: AccessRequest = {
    subject: s.hash,
    namespace: w.nsId,
    permission: 'publish',
    resource: 'x/y',
  };
  const verifier = new Verifier({ clock: w.clock });
  return { ...w, a, s, g, req, verifier };
}

void t.test(
  'verify: a valid two-link proof is granted until its expiry',
  async (t) => {
    const { ns, a, s, g, req, verifier } = setup();
    const p = Proof.fromPath([
      grant(ns, a, { ...g, indirections: 1 }),
      grant(a, s, g),
    ]);
    const r = await verifier.verify(p, req);
    t.equal(r.expiresAtMs, p.expiresAtMs);
    t.equal(r.proofHash, p.hash);
    const fromBytes = await new Verifier(g).verify(p.bytes, req);
    t.equal(fromBytes.proofHash, p.hash);
  },
);

void t.test(
  'verify: the path must start at the namespace entity',
  async (t) => {
    const { a, s, g, req, verifier } = setup();
    const p = Proof.fromPath([grant(a, s, g)]); // a claims namespace ns
    await t.rejects(verifier.verify(p, req), ProofNamespaceError);
    await t.rejects(new Verifier(g).verify(p, req), {
      message: new RegExp(
        `path starts at entity ${a.hash}, not the ` + 'requested namespace',
      ),
    });
  },
);

void t.test('verify: each subject must be the next attester', async (t) => {
  const { ns, a, s, g, req, verifier, entity } = setup();
  const b = entity();
  const p = Proof.fromPath([
    grant(ns, a, { ...g, indirections: 1 }),
    grant(b, s, g),
  ]);
  await t.rejects(verifier.verify(p, req), ProofChainError);
});

void t.test('verify: the path must end at the requester', async (t) => {
  const { ns, s, g, req, verifier, entity } = setup();
  const p = Proof.fromPath([grant(ns, s, g)]);
  const other = entity().hash;
  await t.rejects(
    verifier.verify(p, { ...req, subject: other }),
    ProofSubjectError,
  );
});

void t.test('verify: an expired link is refused', async (t) => {
  const { ns, a, s, g, req, verifier, clock } = setup();
  const p = Proof.fromPath([
    grant(ns, a, { ...g, indirections: 1 }),
    grant(a, s, { ...g, expiryMs: 1000 }),
  ]);
  clock.advance(1000);
  await t.rejects(verifier.verify(p, req), ProofExpiredError);
});

void t.test('verify: an expired embedded entity is refused', async (t) => {
  const { ns, s, g, req, verifier, clock, entity } = setup();
  const shortLived = entity({ expiryMs: 1000 });
  const p = Proof.fromPath([
    grant(ns, shortLived, { ...g, indirections: 1 }),
    grant(shortLived, s, g),
  ]);
  clock.advance(1000);
  await t.rejects(verifier.verify(p, req), {
    message: new RegExp(`entity ${shortLived.hash} on proof link 0 expired`),
  });
});

void t.test('verify: a link not yet valid is refused', async (t) => {
  const { ns, s, g, req, verifier, clock } = setup();
  const p = Proof.fromPath([
    grant(ns, s, { ...g, notBeforeMs: clock.now() + 5000 }),
  ]);
  await t.rejects(verifier.verify(p, req), ProofNotYetValidError);
});

void t.test(
  'verify: delegation beyond the indirections is refused',
  async (t) => {
    const { ns, a, s, g, req, verifier } = setup();
    const p = Proof.fromPath([grant(ns, a, g), grant(a, s, g)]);
    await t.rejects(verifier.verify(p, req), ProofIndirectionError);
    await t.rejects(new Verifier(g).verify(p, req), {
      message: /link 0 .* allows 0 further delegations; the proof makes 1/,
    });
  },
);

void t.test(
  'verify: the namespace must match, on the proof and every link',
  async (t) => {
    const { ns, a, s, g, req, verifier, entity } = setup();
    const direct = Proof.fromPath([grant(ns, s, g)]);
    const otherNs = entity().hash as string as NamespaceId;
    await t.rejects(
      verifier.verify(direct, { ...req, namespace: otherNs }),
      ProofNamespaceError,
    );
    const mixed = Proof.fromPath([
      grant(ns, a, { ...g, indirections: 1 }),
      grant(a, s, { ...g, namespace: otherNs }),
    ]);
    await t.rejects(verifier.verify(mixed, req), {
      message: new RegExp(`link 1 is in ${otherNs}`),
    });
  },
);

void t.test(
  'verify: a missing permission is denied with a clear message',
  async (t) => {
    const { ns, s, g, req, verifier, nsId } = setup();
    const p = Proof.fromPath([
      grant(ns, s, { ...g, permissions: ['subscribe'] }),
    ]);
    await t.rejects(verifier.verify(p, req), PermissionDeniedError);
    await t.rejects(new Verifier(g).verify(p, req), {
      message: new RegExp(
        `^no grant of publish on x/y in namespace ${nsId} ` +
          `for entity ${s.hash}`,
      ),
      data: { permission: 'publish', resource: 'x/y', index: 0 },
    });
  },
);

void t.test('verify: a resource outside any link is denied', async (t) => {
  const { ns, a, s, g, req, verifier } = setup();
  const narrowFirst = Proof.fromPath([
    grant(ns, a, { ...g, indirections: 1, resource: 'x/+' }),
    grant(a, s, { ...g, resource: '*' }),
  ]);
  await t.resolves(verifier.verify(narrowFirst, req));
  await t.rejects(verifier.verify(narrowFirst, { ...req, resource: 'x/*' }), {
    name: 'PermissionDeniedError',
    data: { index: 0 },
  });
  await t.rejects(
    verifier.verify(narrowFirst, { ...req, resource: 'z/y' }),
    PermissionDeniedError,
  );
});

/** A checker answering from a table of base64url commitments. */
function checker(answers: Map<string, boolean | undefined>): RevocationChecker {
  return {
    isRevoked: (c) =>
      Promise.resolve(
        answers.has(toBase64Url(c)) ? answers.get(toBase64Url(c)) : false,
      ),
  };
}

void t.test('verify: a revoked attestation or entity is refused', async (t) => {
  const { ns, a, s, g, req, clock } = setup();
  const l0 = grant(ns, a, { ...g, indirections: 1 });
  const l1 = grant(a, s, g);
  const p = Proof.fromPath([l0, l1]);
  const revoked = (x: Uint8Array) =>
    new Verifier({
      clock,
      revocation: checker(new Map([[toBase64Url(x), true]])),
    });
  await t.rejects(
    revoked(l1.revocationCommitment).verify(p, req),
    ProofRevokedError,
  );
  await t.rejects(revoked(a.publicEntity.revocationCommitment).verify(p, req), {
    message: new RegExp(`entity ${a.hash} on proof link 0 has been revoked`),
  });
  await t.rejects(
    revoked(s.publicEntity.revocationCommitment).verify(p, req),
    ProofRevokedError,
    'the embedded subject entity counts',
  );
  await t.resolves(revoked(new Uint8Array(32)).verify(p, req));
});

void t.test(
  'verify: unreachable revocation storage fails unless told otherwise',
  async (t) => {
    const { ns, s, g, req, clock } = setup();
    const l0 = grant(ns, s, g);
    const p = Proof.fromPath([l0]);
    const down = checker(
      new Map([[toBase64Url(l0.revocationCommitment), undefined]]),
    );
    await t.rejects(
      new Verifier({ clock, revocation: down }).verify(p, req),
      RevocationUnavailableError,
    );
    await t.resolves(
      new Verifier({
        clock,
        revocation: down,
        defaultToUnrevoked: true,
      }).verify(p, req),
    );
  },
);

void t.test('verify: a forged signature is refused', async (t) => {
  const { ns, s, g, req, verifier } = setup();
  const p = Proof.fromPath([grant(ns, s, g)]);
  const sig = p.path[0]!.bytes.subarray(-64);
  const at = Buffer.from(p.bytes).lastIndexOf(Buffer.from(sig));
  await t.rejects(verifier.verify(flip(p.bytes, at), req), ProofSignatureError);
  await t.rejects(
    verifier.verify(new Uint8Array([1, 2]), req),
    MalformedProofError,
  );
});

void t.test(
  'verify: a link forged by another key for the namespace fails',
  async (t) => {
    const { s, g, req, verifier, entity } = setup();
    const mallory = entity();
    // Mallory names the namespace as attester but must embed her own entity
    // to sign; decoding catches the mismatch.
    const a = Attestation.create(mallory, {
      subject: s.hash,
      namespace: g.namespace,
      clock: g.clock,
      statements: [{ permissions: ['publish'], resource: '*' }],
    });
    const bytes = Buffer.from(Proof.fromPath([a]).bytes);
    const swapped = Buffer.from(
      bytes.toString('latin1').replace(mallory.hash, g.namespace),
      'latin1',
    );
    await t.rejects(
      verifier.verify(new Uint8Array(swapped), req),
      ProofSignatureError,
    );
  },
);

void t.test(
  'verify: expiresAtMs reflects the shortest-lived object',
  async (t) => {
    const { ns, s, g, req, verifier } = setup();
    const p = Proof.fromPath([grant(ns, s, { ...g, expiryMs: HOUR_MS / 4 })]);
    const r = await verifier.verify(p, req);
    t.equal(r.expiresAtMs, g.clock.now() + HOUR_MS / 4);
  },
);

void t.test(
  "verify: the requester's own entity, given with the request, must be valid, unrevoked and the subject",
  async (t) => {
    const { ns, g, req, clock, entity, verifier } = setup();
    const shortLived = entity({ expiryMs: 1000 });
    // Granted by hash only: no link embeds the requester's entity.
    const p = Proof.fromPath([grant(ns, shortLived.hash, g)]);
    const asked: AccessRequest = {
      ...req,
      subject: shortLived.hash,
      subjectEntity: shortLived.publicEntity,
    };
    const granted = await verifier.verify(p, asked);
    t.equal(
      granted.expiresAtMs,
      shortLived.publicEntity.notAfterMs,
      'the grant ends when the entity does',
    );
    await t.rejects(
      new Verifier({
        clock,
        revocation: checker(
          new Map([
            [toBase64Url(shortLived.publicEntity.revocationCommitment), true],
          ]),
        ),
      }).verify(p, asked),
      ProofRevokedError,
      'a revoked requester entity is refused',
    );
    await t.rejects(
      new Verifier({ clock }).verify(p, {
        ...asked,
        subjectEntity: entity().publicEntity,
      }),
      ProofSubjectError,
      'another entity than the subject is refused',
    );
    clock.advance(1000);
    await t.rejects(new Verifier({ clock }).verify(p, asked), {
      message: new RegExp(`entity ${shortLived.hash} on proof link 0 expired`),
    });
    await t.resolves(
      new Verifier({ clock }).verify(p, { ...req, subject: shortLived.hash }),
      'without the entity only the path is checked',
    );
  },
);
