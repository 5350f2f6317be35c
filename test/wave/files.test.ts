import t from 'tap';
import {
  mkdtemp,
  readFile,
  rm,
  stat,
  writeFile,
  readdir,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  inspectObject,
  MalformedObjectError,
  Proof,
  readObject,
  readPublicEntity,
  WrongPassphraseError,
  type ProofSummary,
} from '../../src/wave/index.ts';
import { writeSecretFile } from '../../src/common/index.ts';
import { grant, world } from './fixtures.ts';

function fixtures() {
  const w = world();
  const s = w.entity();
  const a = grant(w.ns, s, {
    namespace: w.nsId,
    clock: w.clock,
    resource: 'x/*',
    permissions: ['publish'],
  });
  return { ...w, s, a, proof: Proof.fromPath([a]) };
}

void t.test(
  'files: every object kind reads back from its armored text',
  (t) => {
    const { ns, s, a, proof } = fixtures();
    const secret = readObject(s.encodeSecret());
    t.equal(secret.kind, 'entity-secret');
    if (secret.kind === 'entity-secret') t.equal(secret.entity.hash, s.hash);
    const sealed = readObject(s.encodeSecret('pw'), 'pw');
    t.equal(sealed.kind === 'entity-secret' && sealed.entity.hash, s.hash);
    t.throws(
      () => readObject(s.encodeSecret('pw'), 'nope'),
      WrongPassphraseError,
    );
    const pub = readObject(ns.publicEntity.encodeFile());
    t.equal(pub.kind === 'entity' && pub.entity.hash, ns.hash);
    const att = readObject(a.encodeFile());
    t.equal(att.kind === 'attestation' && att.attestation.hash, a.hash);
    const p = readObject('some text before\n' + proof.encodeFile());
    t.equal(p.kind === 'proof' && p.proof.hash, proof.hash);
    t.end();
  },
);

void t.test(
  'files: armored text has the documented labels and line width',
  (t) => {
    const { ns, a, proof } = fixtures();
    for (const [text, label] of [
      [ns.encodeSecret(), 'WAVEMQ ENTITY SECRET'],
      [ns.publicEntity.encodeFile(), 'WAVEMQ ENTITY'],
      [a.encodeFile(), 'WAVEMQ ATTESTATION'],
      [proof.encodeFile(), 'WAVEMQ PROOF'],
    ] as const) {
      const lines = text.trimEnd().split('\n');
      t.equal(lines[0], `-----BEGIN ${label}-----`);
      t.equal(lines.at(-1), `-----END ${label}-----`);
      t.ok(lines.every((l) => l.length <= 64 || l.startsWith('-----')));
    }
    t.end();
  },
);

void t.test('files: unknown or broken files are refused with a reason', (t) => {
  t.throws(() => readObject('hello'), { message: /no -----BEGIN WAVEMQ/ });
  t.throws(
    () =>
      readObject(
        '-----BEGIN WAVEMQ THING-----\nAAAA\n' + '-----END WAVEMQ THING-----\n',
      ),
    { message: /unknown object kind/ },
  );
  t.throws(
    () =>
      readObject(
        '-----BEGIN WAVEMQ PROOF-----\n%%%\n' + '-----END WAVEMQ PROOF-----\n',
      ),
    MalformedObjectError,
  );
  t.end();
});

void t.test('files: inspect gives a JSON summary without secrets', (t) => {
  const { clock, ns, s, a, proof, nsId } = fixtures();
  const sum = inspectObject(readObject(s.encodeSecret()), { clock });
  const json = JSON.stringify(sum);
  t.match(sum, {
    kind: 'entity-secret',
    hash: s.hash,
    validity: { status: 'valid' },
  });
  t.notOk(json.includes(Buffer.from(s.signingSeed).toString('base64url')));
  t.notOk(json.includes(Buffer.from(s.revocationSecret).toString('base64url')));
  const as = inspectObject({ kind: 'attestation', attestation: a }, { clock });
  t.same(as, {
    kind: 'attestation',
    hash: a.hash,
    attester: ns.hash,
    subject: s.hash,
    namespace: nsId,
    statements: [{ permissions: ['publish'], resource: 'x/*' }],
    indirections: 0,
    revocationCommitment: Buffer.from(a.revocationCommitment).toString(
      'base64url',
    ),
    validity: {
      notBefore: new Date(a.notBeforeMs).toISOString(),
      notAfter: new Date(a.notAfterMs).toISOString(),
      status: 'valid',
    },
    subjectEmbedded: true,
  });
  const ps = inspectObject({ kind: 'proof', proof }, { clock }) as ProofSummary;
  t.equal(ps.expiresAt, new Date(proof.expiresAtMs).toISOString());
  t.equal(ps.path.length, 1);
  t.same(JSON.parse(JSON.stringify(ps)), ps, 'plain JSON');
  clock.advance(proof.expiresAtMs - clock.now());
  t.equal(
    (inspectObject({ kind: 'proof', proof }, { clock }) as ProofSummary)
      .path[0]!.validity.status,
    'expired',
  );
  t.end();
});

void t.test('files: secret files are written with mode 0600', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wave-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'a.ent');
  await writeFile(path, 'old', { mode: 0o644 });
  const { s } = fixtures();
  const text = s.encodeSecret();
  await writeSecretFile(path, text);
  t.equal((await stat(path)).mode & 0o777, 0o600);
  t.equal(await readFile(path, 'utf8'), text);
  const back = readObject(await readFile(path, 'utf8'));
  t.equal(back.kind === 'entity-secret' && back.entity.hash, s.hash);
  t.same(await readdir(dir), ['a.ent'], 'no temporary file left');
  await t.rejects(writeSecretFile(join(dir, 'missing', 'x'), 'x'));
});

void t.test(
  'files: the public entity reads from any entity file, sealed too',
  (t) => {
    const { ns, a } = fixtures();
    t.equal(readPublicEntity(ns.encodeSecret('pw')).hash, ns.hash);
    t.equal(readPublicEntity(ns.encodeSecret()).hash, ns.hash);
    t.equal(readPublicEntity(ns.publicEntity.encodeFile()).hash, ns.hash);
    t.throws(() => readPublicEntity(a.encodeFile()), {
      message: /holds WAVEMQ ATTESTATION, not an entity/,
    });
    t.end();
  },
);
