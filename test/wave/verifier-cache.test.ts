import t from 'tap';
import { Registry } from 'prom-client';
import {
  createWaveMetrics,
  PermissionDeniedError,
  Proof,
  ProofExpiredError,
  ProofNotYetValidError,
  Verifier,
  type AccessRequest,
  type RevocationChecker,
} from '../../src/wave/index.ts';
import { grant, HOUR_MS, world } from './fixtures.ts';

function setup(o: { expiryMs?: number; notBeforeMs?: number } = {}) {
  const w = world();
  const s = w.entity();
  const proof = Proof.fromPath([
    grant(w.ns, s, {
      namespace: w.nsId,
      clock: w.clock,
      resource: 'x/*',
      ...o,
    }),
  ]);
  const req: AccessRequest = {
    subject: s.hash,
    namespace: w.nsId,
    permission: 'publish',
    resource: 'x/y',
  };
  return { ...w, s, proof, req };
}

void t.test(
  'verifier cache: a success is reused until the proof expires',
  async (t) => {
    const { clock, proof, req } = setup({ expiryMs: HOUR_MS });
    const v = new Verifier({ clock });
    await v.verify(proof, req);
    await v.verify(proof.bytes, req);
    t.match(v.stats, { hits: 1, misses: 1, failures: 0, entries: 1 });
    clock.advance(proof.expiresAtMs - clock.now() - 1);
    await v.verify(proof, req);
    t.equal(v.stats.hits, 2, 'still cached 1 ms before expiry');
    clock.advance(1);
    await t.rejects(v.verify(proof, req), ProofExpiredError);
    t.match(v.stats, { hits: 2, misses: 2, failures: 1 });
  },
);

void t.test(
  'verifier cache: a failure is remembered only briefly',
  async (t) => {
    const { clock, proof, req } = setup({
      notBeforeMs: new Date(1_700_000_000_000 + 5000).getTime(),
    });
    const v = new Verifier({ clock, negativeTtlMs: 10_000 });
    await t.rejects(v.verify(proof, req), ProofNotYetValidError);
    clock.advance(6000); // now valid, but the failure is still cached
    await t.rejects(v.verify(proof, req), ProofNotYetValidError);
    t.match(v.stats, { hits: 1, misses: 1, failures: 2 });
    clock.advance(4000);
    await t.resolves(v.verify(proof, req));
    t.match(v.stats, { hits: 1, misses: 2, failures: 2 });
  },
);

void t.test('verifier cache: the default negative TTL is 10 s', async (t) => {
  const { clock, proof, req } = setup();
  const v = new Verifier({ clock });
  const denied = { ...req, permission: 'query' as const };
  await t.rejects(v.verify(proof, denied), PermissionDeniedError);
  clock.advance(9999);
  await t.rejects(v.verify(proof, denied), PermissionDeniedError);
  t.equal(v.stats.misses, 1);
  clock.advance(1);
  await t.rejects(v.verify(proof, denied), PermissionDeniedError);
  t.equal(v.stats.misses, 2);
});

void t.test(
  'verifier cache: size is bounded, least recently used goes',
  async (t) => {
    const { clock, proof, req } = setup();
    const v = new Verifier({ clock, maxEntries: 2 });
    for (const r of ['x/a', 'x/b', 'x/c']) {
      await v.verify(proof, { ...req, resource: r });
    }
    t.equal(v.stats.entries, 2);
    await v.verify(proof, { ...req, resource: 'x/c' });
    t.equal(v.stats.hits, 1);
    await v.verify(proof, { ...req, resource: 'x/a' });
    t.equal(v.stats.misses, 4, 'the oldest entry was evicted');
    t.equal(v.stats.entries, 2);
  },
);

void t.test(
  'verifier cache: answers are keyed by every part of the request',
  async (t) => {
    const { clock, proof, req, entity } = setup();
    const v = new Verifier({ clock });
    await v.verify(proof, req);
    const other = entity();
    await t.rejects(v.verify(proof, { ...req, subject: other.hash }));
    await t.rejects(
      v.verify(proof, {
        ...req,
        namespace: other.hash as string as typeof req.namespace,
      }),
    );
    await t.rejects(v.verify(proof, { ...req, permission: 'query' }));
    await t.rejects(v.verify(proof, { ...req, resource: 'z' }));
    t.match(v.stats, { hits: 0, misses: 5, failures: 4 });
  },
);

void t.test(
  'verifier cache: revocation is asked again after the recheck time',
  async (t) => {
    const { clock, proof, req } = setup({ expiryMs: HOUR_MS });
    let asked = 0;
    const revocation: RevocationChecker = {
      isRevoked: () => {
        asked++;
        return Promise.resolve(false);
      },
    };
    const v = new Verifier({ clock, revocation, revocationRecheckMs: 60_000 });
    await v.verify(proof, req);
    const perProof = asked;
    t.ok(perProof >= 3, 'link, attester and subject entity are checked');
    await v.verify(proof, req);
    t.equal(asked, perProof);
    clock.advance(60_000);
    await v.verify(proof, req);
    t.equal(asked, 2 * perProof);
  },
);

void t.test('verifier cache: clear forgets everything', async (t) => {
  const { clock, proof, req } = setup();
  const v = new Verifier({ clock });
  await v.verify(proof, req);
  v.clear();
  t.equal(v.stats.entries, 0);
  await v.verify(proof, req);
  t.equal(v.stats.misses, 2);
});

void t.test(
  'verifier metrics: counts hits, misses and failures by code',
  async (t) => {
    const registry = new Registry();
    const metrics = createWaveMetrics(registry);
    const { clock, proof, req } = setup();
    const v = new Verifier({ clock, metrics });
    await v.verify(proof, req);
    await v.verify(proof, req);
    await t.rejects(v.verify(proof, { ...req, permission: 'route' }));
    const text = await registry.metrics();
    t.match(text, /wavemq_wave_proof_cache_hits_total 1/);
    t.match(text, /wavemq_wave_proof_cache_misses_total 2/);
    t.match(
      text,
      /wavemq_wave_proof_verifications_total\{result="granted"\} 2/,
    );
    t.match(
      text,
      /wavemq_wave_proof_failures_total\{code="PERMISSION_DENIED"\} 1/,
    );
    t.match(text, /wavemq_wave_proof_cache_entries 2/);
  },
);

void t.test(
  'wave metrics: every metric is registered under wavemq_wave_',
  (t) => {
    const registry = new Registry();
    const metrics = createWaveMetrics(registry);
    const names = registry.getMetricsAsArray().map((m) => m.name);
    t.equal(names.length, Object.keys(metrics).length);
    for (const n of names) t.match(n, /^wavemq_wave_/);
    t.doesNotThrow(
      () => createWaveMetrics(new Registry()),
      'a second registry takes its own copy',
    );
    t.end();
  },
);

void t.test(
  'verifier cache: an answer says until when it is trusted, and a revocation found then refuses',
  async (t) => {
    const { clock, proof, req } = setup({ expiryMs: HOUR_MS });
    let revoked = false;
    const revocation: RevocationChecker = {
      isRevoked: () => Promise.resolve(revoked),
    };
    const v = new Verifier({ clock, revocation, revocationRecheckMs: 60_000 });
    const start = clock.now();
    const first = await v.verify(proof, req);
    t.equal(first.recheckAtMs, start + 60_000, 'the recheck time');
    clock.advance(30_000);
    revoked = true;
    const cached = await v.verify(proof, req);
    t.equal(cached.recheckAtMs, start + 60_000, 'a cached answer keeps it');
    clock.advance(30_000);
    await t.rejects(v.verify(proof, req), { code: 'PROOF_REVOKED' });
    const plain = new Verifier({ clock });
    const noRecheck = await plain.verify(proof, req);
    t.equal(
      noRecheck.recheckAtMs,
      noRecheck.expiresAtMs,
      'without revocation checks, trusted until the proof expires',
    );
  },
);
