import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../../src/common/clock.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { defaultConfig, type RouterConfig } from '../../src/config/index.ts';
import { Router } from '../../src/router/router.ts';
import { sessionMarkKey } from '../../src/router/session-marks.ts';
import { createMemoryTransport } from '../../src/transport/index.ts';
import { encode, type WireMessage } from '../../src/wire/index.ts';

const DAY_MS = 24 * 3600 * 1000;

/** A message of `session` numbered `seq`; routing does not verify it. */
function message(session: string, seq: number): WireMessage {
  return {
    ns: 'ns',
    uri: 'a/b',
    payloads: [],
    publisher: 'p',
    origin: 'o',
    session,
    seq,
    ts: 0,
    persist: false,
    proofHash: 'h',
    sig: {
      root: new Uint8Array(32),
      signature: new Uint8Array(64),
      index: 0,
      path: [],
    },
  };
}

t.test(
  'router: publisher session marks are written by route(), kept for the longest queue lifetime, then swept',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-router-sessions-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const base = defaultConfig(dir);
    const config: RouterConfig = {
      ...base,
      queue: { ...base.queue, queueExpiryMs: 10 * DAY_MS },
      local: { listenAddr: { host: '127.0.0.1', port: 0 } },
    };
    const clock = new ManualClock();
    const start = (): Promise<Router> =>
      Router.start({
        config,
        transport: createMemoryTransport(),
        logger: silentLogger(),
        clock,
        revocation: { isRevoked: () => Promise.resolve(false) },
      });
    let router = await start();
    t.teardown(() => router.stop());
    const route = (session: string, seqs: number[]): Promise<void> =>
      router.route(
        seqs.map((n) => ({ m: message(session, n), bytes: encode(n) })),
        { from: 'local' },
      );
    const held = async (session: string): Promise<boolean> =>
      (await router.queues.readMark(sessionMarkKey(session))) !== undefined;
    const duplicates = async (): Promise<number> =>
      (await router.metrics.publishDuplicates.get()).values[0]?.value ?? 0;

    await route('S', [1, 2, 3]);
    t.ok(await held('S'), 'a batch with no queue to go to still writes');
    clock.advance(8 * DAY_MS);
    await route('T', [1]);
    t.equal(
      await router.publisherSessions.sweep(),
      0,
      'queueExpiry (10 days) is longer than 7 days: kept',
    );
    await router.stop();

    router = await start();
    await route('S', [2, 3, 4]);
    t.equal(await duplicates(), 2, 'after a restart, a resend is dropped');
    clock.advance(10 * DAY_MS + 1);
    await route('T', [2]);
    t.equal(await router.publisherSessions.sweep(), 1);
    t.notOk(await held('S'), 'unused for longer than queueExpiry: swept');
    t.ok(await held('T'));
    t.equal((await router.metrics.publisherSessions.get()).values[0]?.value, 1);
  },
);
