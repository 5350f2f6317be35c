// Revocation through storage, end to end: a router process asks a real
// storage server (HTTP, LevelDB) whether anything on a proof was revoked.
import t from 'tap';
import { RouterRefusedError, payloadText } from '../../src/agent/index.ts';
import { eventually, runCli } from '../../harness/processes.ts';
import { makeSite } from '../helpers/site.ts';
import { startStorage } from '../helpers/storage.ts';

const SEED_STORAGE_URL = 'https://standalone.storage.bwave.io/v1';

/** The seed config pointed at `url`, asking storage every `recheckS`. */
function storageConfig(
  url: string,
  o: { unrevoked: boolean; recheckS?: number },
) {
  return (toml: string): string => {
    if (!toml.includes(SEED_STORAGE_URL)) {
      throw new Error('the seed config no longer names its storage URL');
    }
    return toml
      .replace(SEED_STORAGE_URL, url)
      .replace(
        'defaultToUnrevoked = true',
        `defaultToUnrevoked = ${String(o.unrevoked)}\n` +
          `  revocationCheckInterval = ${String(o.recheckS ?? 1)}`,
      );
  };
}

function routerCode(err: unknown): string | undefined {
  return err instanceof RouterRefusedError ? err.data.routerCode : undefined;
}

t.test(
  'revocation: a revoked grant stops publishing and ends a live subscription, and the router serves others on',
  async (t) => {
    const storage = await startStorage(t);
    const site = await makeSite(
      t,
      storageConfig(storage.url, { unrevoked: false }),
    );
    await site.start();
    const a = await site.agent('a');
    const b = await site.agent('b');
    const agentA = await site.connect(a);
    const agentB = await site.connect(b);
    t.teardown(() => Promise.all([agentA.close(), agentB.close()]));

    const sub = await agentA.subscribe('r/*', { id: 'a-sub', autoAck: true });
    const received: string[] = [];
    const ended = (async () => {
      try {
        for await (const m of sub) received.push(payloadText(m));
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    await agentA.publish('r/x', 'before');
    await agentB.publish('r/x', 'from b');
    await eventually(() => (received.length >= 2 ? true : undefined));

    const res = await runCli([
      'revoke',
      '--storage',
      storage.url,
      '--grant',
      a.grantFile,
      '--attester',
      site.ns.file,
    ]);
    t.equal(res.code, 0, `revoke exits 0 (${res.stderr})`);
    t.match(res.stdout, a.grant.hash, 'names the revoked grant');

    // Within a recheck interval or two, a's publishes are refused...
    const refused = await eventually(async () => {
      try {
        await agentA.publish('r/x', 'after');
        return undefined;
      } catch (err) {
        return err;
      }
    });
    t.equal(routerCode(refused), 'PROOF_REVOKED', String(refused));
    t.match(String(refused), a.grant.hash, 'the refusal names the grant');
    // ...and its live subscription ends, saying why.
    const subEnd = await ended;
    t.equal(routerCode(subEnd), 'PROOF_REVOKED', String(subEnd));
    // A new subscription with the revoked grant is refused too.
    const again = await agentA.subscribe('r/*', { id: 'a-sub-2' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    t.equal(routerCode(again), 'PROOF_REVOKED');

    // b's grant was not revoked: b still publishes and subscribes.
    const subB = await agentB.subscribe('r/*', { id: 'b-sub' });
    await agentB.publish('r/y', 'still here');
    for await (const m of subB) {
      t.equal(payloadText(m), 'still here');
      break;
    }
  },
);

t.test(
  'revocation: with storage unreachable, defaultToUnrevoked decides',
  async (t) => {
    // A storage server that is gone: started to get a port, then stopped.
    const gone = await startStorage(t);
    await gone.stop();

    const strict = await makeSite(
      t,
      storageConfig(gone.url, { unrevoked: false }),
    );
    await strict.start();
    const a = await strict.agent('a');
    const agent = await strict.connect(a);
    t.teardown(() => agent.close());
    const err = await agent.publish('u/x', 'hello').then(
      () => undefined,
      (e: unknown) => e,
    );
    t.equal(routerCode(err), 'REVOCATION_UNAVAILABLE', String(err));
    t.match(String(err), 'defaultToUnrevoked', 'the refusal says why');
    // The router is still up and answers.
    const status = await agent.status();
    t.ok(status, 'status still answers');

    const lenient = await makeSite(
      t,
      storageConfig(gone.url, { unrevoked: true }),
    );
    await lenient.start();
    const b = await lenient.agent('b');
    const agentB = await lenient.connect(b);
    t.teardown(() => agentB.close());
    await agentB.publish('u/x', 'offline site keeps working');
    t.pass('published with storage unreachable and defaultToUnrevoked on');
  },
);
