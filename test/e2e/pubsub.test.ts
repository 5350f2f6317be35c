import t from 'tap';
import {
  subscriptionExists,
  take,
  takeUntilQuiet,
} from '../helpers/messages.ts';
import { makeSite } from '../helpers/site.ts';
import { makeAgent, makeNamespace } from '../../harness/grants.ts';
import { runCli, spawnCli } from '../../harness/processes.ts';

t.test(
  'pub/sub: separate processes, a subscriber receives in order what a publisher sent',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    const sub = spawnCli([
      'sub',
      'order/*',
      '--id',
      'ord',
      '--count',
      '50',
      '--json',
      ...site.cliArgs(a),
    ]);
    // Wait until the subscription exists, then publish 50 lines.
    await subscriptionExists(site.agentPort);
    const lines = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const pub = await runCli(
      ['pub', 'order/x', '--lines', ...site.cliArgs(a)],
      { input: lines.join('\n') + '\n' },
    );
    t.equal(pub.code, 0, `publisher exits 0 (${pub.stderr})`);
    const res = await sub.done;
    t.equal(res.code, 0, `subscriber exits 0 (${res.stderr})`);
    const got = res.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { payload: string }).payload);
    t.same(got, lines, 'all 50, in order, once each');
  },
);

t.test('pub/sub: + and * patterns match as specified', async (t) => {
  const site = await makeSite(t);
  await site.start();
  const a = await site.agent('a');
  const agent = await site.connect(a);
  const patterns = ['a/+/c', 'a/*', '*/z', 'a/*/z', '+'];
  const uris = ['a/b/c', 'a', 'a/z', 'q/r/z', 'a/b/d/z', 'x', 'a/b/c/d'];
  const expected: Record<string, string[]> = {
    'a/+/c': ['a/b/c'],
    'a/*': ['a/b/c', 'a', 'a/z', 'a/b/d/z', 'a/b/c/d'],
    '*/z': ['a/z', 'q/r/z', 'a/b/d/z'],
    'a/*/z': ['a/z', 'a/b/d/z'],
    '+': ['a', 'x'],
  };
  const subs = await Promise.all(
    patterns.map((p, i) => agent.subscribe(p, { id: `p${i}` })),
  );
  for (const u of uris) await agent.publish(u, u);
  for (const [i, p] of patterns.entries()) {
    const got = await take(subs[i]!, expected[p]!.length);
    t.same(
      got.map((m) => m.uri),
      expected[p],
      `pattern ${p}`,
    );
  }
  // One more publish that only '+' matches shows nothing else was queued.
  await agent.publish('y', 'y');
  const [next] = await take(subs[4]!, 1);
  t.equal(next?.uri, 'y');
  const st = await agent.status();
  t.equal(st['subscriptions'], 5);
});

t.test(
  'pub/sub: publishers without a valid grant are refused and the router keeps serving',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const good = await site.agent('good');
    const listener = await site.connect(good);
    const sub = await listener.subscribe('secure/*', { id: 'sec' });

    const subOnly = await site.agent('subonly', { permissions: ['subscribe'] });
    const r1 = await runCli([
      'pub',
      'secure/x',
      'no',
      ...site.cliArgs(subOnly),
    ]);
    t.not(r1.code, 0, 'no publish grant: refused');
    t.match(r1.stderr, /publish/, 'names the missing permission');
    t.match(r1.stderr, /secure\/x/, 'names the resource');

    const narrow = await site.agent('narrow', { resource: 'other/*' });
    const r2 = await runCli(['pub', 'secure/x', 'no', ...site.cliArgs(narrow)]);
    t.not(r2.code, 0, 'grant on another resource: refused');
    t.match(r2.stderr, /secure\/x/);

    const expired = await site.agent('expired', { expiryMs: 1000 });
    // A valid grant to an entity that itself lapses (granted by hash).
    const lapsed = await site.agent('lapsed', { entityExpiryMs: 1000 });
    await new Promise((r) => setTimeout(r, 1500)); // let both lapse
    const r3 = await runCli([
      'pub',
      'secure/x',
      'no',
      ...site.cliArgs(expired),
    ]);
    t.not(r3.code, 0, 'expired grant: refused');
    t.match(r3.stderr, /expir/i, 'says it expired');
    const r3b = await runCli([
      'pub',
      'secure/x',
      'no',
      ...site.cliArgs(lapsed),
    ]);
    t.not(r3b.code, 0, 'expired publisher entity: refused');
    t.match(r3b.stderr, lapsed.entity.hash, 'names the entity');
    t.match(r3b.stderr, /expired/, 'says it expired');

    const other = await makeNamespace(site.dir, 'other-ns');
    const stranger = await makeAgent(site.dir, 'stranger', other);
    const args = site.cliArgs(stranger);
    const r4 = await runCli(['pub', 'secure/x', 'no', ...args]);
    t.not(r4.code, 0, 'proof from another namespace: refused');
    t.match(r4.stderr, /namespace/i);

    const ok = await runCli(['pub', 'secure/x', 'yes', ...site.cliArgs(good)]);
    t.equal(
      ok.code,
      0,
      `a granted publisher still gets through (${ok.stderr})`,
    );
    const [m] = await take(sub, 1);
    t.equal(
      m ? Buffer.from(m.payloads[0]!.content).toString() : '',
      'yes',
      'only the granted message arrived',
    );
  },
);

t.test(
  'pub/sub: leaving an iteration early loses nothing that arrived in the same frame',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    const agent = await site.connect(a);
    const sub = await agent.subscribe('f/*', { id: 'frames' });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => agent.publish('f/x', `m${i}`)),
    );
    const first = await take(sub, 5);
    const rest = await take(sub, 35);
    t.same(
      [...first, ...rest].map((m) =>
        Buffer.from(m.payloads[0]!.content).toString(),
      ),
      Array.from({ length: 40 }, (_, i) => `m${i}`),
    );
  },
);

t.test(
  'pub/sub: a burst from a fresh connection arrives whole, in order, once',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    const subscriber = await site.connect(a);
    const sub = await subscriber.subscribe('burst/*', { id: 'burst' });
    // A fresh connection sends its proof in full only in its first batch;
    // the batches after it, sent before it is acknowledged, name it by
    // hash and must not be refused or dropped for that.
    // Its own entity and proof, so the router has not seen them before.
    const publisher = await site.connect(await site.agent('b'));
    const count = 3000;
    const acks: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      acks.push(publisher.publish('burst/x', `m${i}`));
      // One message a batch at first, so many batches are in flight
      // while the first is still being verified.
      if (i < 200 || i % 50 === 49) {
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    await Promise.all(acks);
    const got = (await takeUntilQuiet(sub, count, 10_000)).map((m) =>
      Buffer.from(m.payloads[0]!.content).toString(),
    );
    t.equal(new Set(got).size, count, 'every acknowledged message arrived');
    t.same(
      got,
      Array.from({ length: count }, (_, i) => `m${i}`),
      'in the order published',
    );
    await publisher.close();
    await subscriber.close();
  },
);
