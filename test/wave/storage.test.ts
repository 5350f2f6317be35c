import { Writable } from 'node:stream';
import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/common/clock.ts';
import {
  commitmentHash,
  createWaveMetrics,
  Entity,
  hashOf,
  HttpStorageProvider,
  InvalidArgumentError,
  Proof,
  ProofRevokedError,
  revocationCommitment,
  revoke,
  StorageBadAnswerError,
  StorageRefusedError,
  StorageUnavailableError,
  Verifier,
  type HttpStorageOptions,
} from '../../src/wave/index.ts';
import { countingFetch, fakeServer, startStorage } from '../helpers/storage.ts';
import { grant, world } from './fixtures.ts';

function provider(
  url: string,
  o: Partial<HttpStorageOptions> = {},
): HttpStorageProvider {
  return new HttpStorageProvider({ name: 'test', url, ...o });
}

/** A logger whose lines a test can read. */
function capturedLogger(): {
  logger: pino.Logger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

const random = (n: number): Uint8Array =>
  Uint8Array.from({ length: n }, () => Math.floor(Math.random() * 256));

t.test(
  'storage client: put and get round trip, an absent object is undefined, a trailing slash is fine',
  async (t) => {
    const s = await startStorage(t);
    const p = provider(`${s.url}/`);
    t.equal(p.url, s.url, 'the trailing slash is dropped');
    const bytes = random(100);
    const hash = await p.put(bytes);
    t.equal(hash, hashOf(bytes));
    t.same(await p.get(hash), bytes);
    t.equal(await p.put(bytes), hash, 'a second put answers the same hash');
    t.equal(await p.get(hashOf(random(8))), undefined);
  },
);

t.test(
  'storage client: a revoked attestation reads as revoked, here and from a fresh client, and the verifier refuses its proof',
  async (t) => {
    const s = await startStorage(t);
    const { clock, ns, nsId, entity } = world();
    const a = grant(ns, entity(), { namespace: nsId, clock });
    const p = provider(s.url);
    t.equal(await p.isRevoked(a.revocationCommitment), false);
    const stored = await revoke(p, a.revocationSecret(ns));
    t.equal(stored, commitmentHash(a.revocationCommitment));
    t.equal(await p.isRevoked(a.revocationCommitment), true);
    const fresh = provider(s.url);
    t.equal(await fresh.isRevoked(a.revocationCommitment), true);
    t.equal(
      await fresh.isRevoked(revocationCommitment(random(32))),
      false,
      'an unknown commitment is not revoked',
    );
    const v = new Verifier({ clock, revocation: fresh });
    await t.rejects(
      v.verify(Proof.fromPath([a]), {
        subject: a.subject,
        namespace: nsId,
        permission: 'publish',
        resource: 'x',
      }),
      ProofRevokedError,
    );
    await t.rejects(
      revoke(p, random(31)),
      InvalidArgumentError,
      'a secret is 32 bytes',
    );
  },
);

t.test(
  'storage client: "revoked" is kept for good, "not revoked" for unrevokedTtlMs',
  async (t) => {
    const s = await startStorage(t);
    const clock = new ManualClock();
    const counted = countingFetch();
    const p = provider(s.url, {
      clock,
      fetch: counted.fetch,
      unrevokedTtlMs: 1000,
    });
    const e = Entity.create();
    const c = e.publicEntity.revocationCommitment;
    t.equal(await p.isRevoked(c), false);
    t.equal(await p.isRevoked(c), false);
    t.equal(counted.urls.length, 1, 'the second answer came from the cache');
    await revoke(provider(s.url), e.revocationSecret);
    t.equal(await p.isRevoked(c), false, 'still the cached answer');
    clock.advance(1000);
    t.equal(await p.isRevoked(c), true, 'asked again once it ran out');
    t.equal(counted.urls.length, 2);
    clock.advance(365 * 24 * 3600_000);
    t.equal(await p.isRevoked(c), true);
    t.equal(counted.urls.length, 2, 'a revocation is never asked again');
  },
);

t.test(
  'storage client: with the server gone, lookups are unknown and no request is made for retryAfterMs; the failure is logged once',
  async (t) => {
    const s = await startStorage(t);
    const clock = new ManualClock();
    const counted = countingFetch();
    const { logger, lines } = capturedLogger();
    const registry = new Registry();
    const p = provider(s.url, {
      clock,
      fetch: counted.fetch,
      retryAfterMs: 30_000,
      logger,
      metrics: createWaveMetrics(registry),
    });
    const e = Entity.create();
    await s.stop();
    const c = e.publicEntity.revocationCommitment;
    t.equal(await p.isRevoked(c), undefined);
    t.equal(counted.urls.length, 1);
    t.equal(await p.isRevoked(c), undefined);
    t.equal(await p.isRevoked(revocationCommitment(random(32))), undefined);
    t.equal(counted.urls.length, 1, 'no request while backing off');
    clock.advance(30_000);
    t.equal(await p.isRevoked(c), undefined);
    t.equal(counted.urls.length, 2, 'one request once the time is up');
    const warns = lines.filter((l) => l['level'] === 40);
    t.equal(warns.length, 1, 'one warning for the whole outage');
    t.match(warns[0], { provider: 'test', url: s.url });
    await t.rejects(p.get(hashOf(random(4))), StorageUnavailableError);
    await s.restart();
    await revoke(provider(s.url), e.revocationSecret);
    t.equal(await p.isRevoked(c), undefined, 'still backing off');
    clock.advance(30_000);
    t.equal(await p.isRevoked(c), true, 'answers again once it is back');
    t.ok(lines.some((l) => l['msg'] === 'storage provider answers again'));
    const text = await registry.metrics();
    t.match(text, /result="unknown",source="backoff"\} 3/);
    t.match(text, /result="unknown",source="storage"\} 2/);
    t.match(text, /result="revoked",source="storage"\} 1/);
  },
);

t.test(
  'storage client: a server that never answers is unknown after timeoutMs',
  async (t) => {
    const hung = await fakeServer(t, () => undefined);
    const p = provider(hung.url, { timeoutMs: 200 });
    t.equal(await p.isRevoked(random(32)), undefined);
    await t.rejects(p.get(hashOf(random(4))), {
      name: 'StorageUnavailableError',
      message: /no answer within 200 ms/,
    });
  },
);

t.test(
  'storage client: concurrent lookups of one commitment make one request',
  async (t) => {
    const s = await startStorage(t);
    const counted = countingFetch();
    const p = provider(s.url, { fetch: counted.fetch });
    const e = Entity.create();
    await revoke(provider(s.url), e.revocationSecret);
    const c = e.publicEntity.revocationCommitment;
    const other = revocationCommitment(random(32));
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => p.isRevoked(c)),
      p.isRevoked(Uint8Array.from(c)),
      p.isRevoked(other),
      p.isRevoked(other),
    ]);
    t.same(answers, [true, true, true, true, true, true, false, false]);
    t.equal(counted.urls.length, 2, 'one request per commitment');
  },
);

t.test(
  'storage client: a lying server is caught: wrong bytes, wrong hash, bad JSON, 5xx',
  async (t) => {
    const liar = await fakeServer(t, (req) =>
      req.method === 'GET'
        ? { status: 200, body: JSON.stringify({ object: 'AAAA' }) }
        : { status: 201, body: JSON.stringify({ hash: hashOf(random(4)) }) },
    );
    const p = provider(liar.url);
    await t.rejects(p.get(hashOf(random(4))), StorageBadAnswerError);
    await t.rejects(p.get(hashOf(random(4))), {
      message: /answered wrongly: object .* hashes to /,
    });
    await t.rejects(p.put(random(4)), {
      name: 'StorageBadAnswerError',
      message: /stored hash .*, expected /,
    });
    t.equal(await provider(liar.url).isRevoked(random(32)), undefined);
    const garbled = await fakeServer(t, () => ({ status: 200, body: '<h' }));
    await t.rejects(provider(garbled.url).get(hashOf(random(4))), {
      name: 'StorageBadAnswerError',
      message: /answer is not JSON/,
    });
    t.equal(await provider(garbled.url).isRevoked(random(32)), undefined);
    const broken = await fakeServer(t, () => ({ status: 503, body: '{}' }));
    await t.rejects(provider(broken.url).get(hashOf(random(4))), {
      name: 'StorageUnavailableError',
      message: /HTTP 503/,
    });
    t.equal(await provider(broken.url).isRevoked(random(32)), undefined);
  },
);

t.test(
  'storage client: a refused put names the server reason; bad options name the option',
  async (t) => {
    const s = await startStorage(t, { maxObjectBytes: 64 });
    await t.rejects(provider(s.url).put(random(65)), {
      name: StorageRefusedError.name,
      message: /field 'object' is 65 bytes, over the limit of 64 \(HTTP 413\)/,
    });
    t.throws(() => provider('not a url'), {
      name: 'InvalidArgumentError',
      message: /storage option url: 'not a url' is not a URL/,
    });
    t.throws(() => provider('ftp://h/v1'), /not an http: or https: URL/);
    t.throws(
      () => provider(s.url, { timeoutMs: 0 }),
      /storage option timeoutMs: must be an integer of at least 1/,
    );
    await t.rejects(
      provider(s.url).isRevoked(random(16)),
      /a revocation commitment is 32 bytes, not 16/,
    );
  },
);

t.test(
  'storage client: until the server has answered, one lookup goes first; the others follow it, or stay unknown without a request if it failed',
  async (t) => {
    const hung = await fakeServer(t, () => undefined);
    const counted = countingFetch();
    const clock = new ManualClock();
    const p = provider(hung.url, {
      timeoutMs: 200,
      fetch: counted.fetch,
      clock,
    });
    const many = Array.from({ length: 6 }, () => random(32));
    const answers = await Promise.all(many.map((c) => p.isRevoked(c)));
    t.same(
      answers,
      many.map(() => undefined),
    );
    t.equal(counted.urls.length, 1, 'one request for six objects');

    // A server that answers: the first lookup opens the way for the rest,
    // which then go together.
    const s = await startStorage(t);
    const good = countingFetch();
    const q = provider(s.url, { fetch: good.fetch });
    const e = Entity.create();
    await revoke(provider(s.url), e.revocationSecret);
    const fresh = await Promise.all([
      q.isRevoked(e.publicEntity.revocationCommitment),
      ...many.map((c) => q.isRevoked(c)),
    ]);
    t.same(fresh, [true, ...many.map(() => false)], 'every answer is real');
    t.equal(good.urls.length, 7, 'one request per object once it answers');
  },
);
