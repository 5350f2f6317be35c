import t from 'tap';
import type { Agent } from '../../src/agent/index.ts';
import { linkUp, take, text } from '../helpers/messages.ts';
import { makeTier, startTier } from '../helpers/tier.ts';
import { eventually } from '../../harness/processes.ts';

t.test(
  'downlink: a message published at site 1 reaches subscribers at site 2 and at the designated router, once, in order',
  async (t) => {
    const { tier, a, atSites } = await startTier(t, 2);
    const [at1, at2] = atSites as [Agent, Agent];
    const sub2 = await at2.subscribe('d/*', { id: 'site2' });
    const subDr = await (
      await tier.dr.connect(a)
    ).subscribe('d/*', { id: 'dr' });
    const sub1 = await at1.subscribe('d/*', { id: 'site1' });
    // Let site 2's downlink registration reach the designated router.
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 100; i++) await at1.publish('d/x', `m${i}`);
    const want = Array.from({ length: 100 }, (_, i) => `m${i}`);
    t.same(
      (await take(sub2, 100)).map(text),
      want,
      'site 2: all, once, in order',
    );
    t.same(
      (await take(subDr, 100)).map(text),
      want,
      'designated router: all, once, in order',
    );
    t.same(
      (await take(sub1, 100)).map(text),
      want,
      'site 1 locally: all, once (no echo from upstream)',
    );
    await at1.publish('d/x', 'end');
    t.equal(
      text((await take(sub1, 1))[0]!),
      'end',
      'nothing came back to site 1 twice',
    );
    t.equal(text((await take(sub2, 1))[0]!), 'end');
  },
);

t.test(
  'downlink: a site that starts before the designated router connects by itself and registers the subscriptions it already had',
  async (t) => {
    const tier = await makeTier(t, 2);
    const [s1, s2] = tier.sites as [typeof tier.dr, typeof tier.dr];
    await s2.start(); // the designated router is not there yet
    const a = await tier.agent('a');
    const at2 = await s2.connect(a);
    const sub2 = await at2.subscribe('late/*', { id: 'site2' });
    await sub2.close(); // the agent goes away; its subscription stays
    await at2.close();
    // Restart site 2: its subscription must come back from disk.
    await s2.kill('SIGKILL');
    await s2.start();
    await tier.dr.start();
    const probe = await s2.connect(a);
    await linkUp(probe);
    await new Promise((r) => setTimeout(r, 1000)); // registration reaches the DR
    await s1.start();
    const at1 = await s1.connect(a);
    for (let i = 0; i < 20; i++) await at1.publish('late/x', `m${i}`);
    const again = await (
      await s2.connect(a)
    ).subscribe('late/*', { id: 'site2' });
    const got = await take(again, 20);
    t.same(
      got.map(text),
      Array.from({ length: 20 }, (_, i) => `m${i}`),
      'the subscription was registered upstream with no agent attached',
    );
  },
);

t.test(
  'downlink: during an outage both sites keep working; afterwards site 2 receives everything site 1 queued, once, in order',
  async (t) => {
    const { tier, atSites } = await startTier(t, 2);
    const [at1, at2] = atSites as [Agent, Agent];
    const sub2 = await at2.subscribe('out/*', { id: 'site2' });
    const local1 = await at1.subscribe('out/*', { id: 'site1' });
    await new Promise((r) => setTimeout(r, 1000)); // registrations reach the DR

    await tier.dr.kill('SIGKILL');
    for (let i = 0; i < 60; i++) await at1.publish('out/x', `m${i}`);
    await at2.publish('out/local2', 'site 2 still works');
    t.same(
      (await take(local1, 60)).map(text),
      Array.from({ length: 60 }, (_, i) => `m${i}`),
      'site 1 delivers locally during the outage',
    );
    t.equal(
      text((await take(sub2, 1))[0]!),
      'site 2 still works',
      'so does site 2',
    );
    const backlog = (
      (await at1.status())['namespaces'] as { backlog: number }[]
    )[0]!.backlog;
    t.equal(backlog, 60, "site 1's publishes wait on disk");

    await tier.dr.start();
    const got = await take(sub2, 60);
    t.same(
      got.map(text),
      Array.from({ length: 60 }, (_, i) => `m${i}`),
      'site 2: everything, once, in order, with no new publish',
    );
    await at1.publish('out/x', 'end');
    t.equal(text((await take(sub2, 1))[0]!), 'end', 'and nothing twice');
  },
);

t.test(
  'downlink: unsubscribing at a site removes the downlink at the designated router',
  async (t) => {
    const tier = await makeTier(t, 1);
    await tier.dr.start();
    const site = tier.sites[0]!;
    await site.start();
    const a = await tier.agent('a');
    const at = await site.connect(a);
    await linkUp(at);
    const dr = await tier.dr.connect(a);
    const sub = await at.subscribe('u/*', { id: 'gone' });
    const count = async (): Promise<number> =>
      Number((await dr.status())['subscriptions']);
    await eventually(async () => ((await count()) === 1 ? true : undefined));
    await sub.close({ unsubscribe: true });
    await eventually(async () => ((await count()) === 0 ? true : undefined));
    t.pass('the downlink queue is gone upstream');
  },
);
