import t from 'tap';
import {
  backlogDrained,
  linkUp,
  take,
  text,
  uplinkReaches,
  uplinkStatus as trunkStatus,
} from '../helpers/messages.ts';
import { makeTier } from '../helpers/tier.ts';

t.test(
  'trunk: a message published at a site reaches the designated router exactly once, in order',
  async (t) => {
    const tier = await makeTier(t, 1);
    await tier.dr.start();
    const site = tier.sites[0]!;
    await site.start();
    const a = await tier.agent('a');
    const atDr = await (
      await tier.dr.connect(a)
    ).subscribe('t/*', { id: 'dr-sub' });
    const atSite = await site.connect(a);
    await linkUp(atSite);
    for (let i = 0; i < 200; i++) void atSite.publish('t/x', `m${i}`);
    await atSite.publish('t/x', 'm200');
    const got = await take(atDr, 201);
    t.same(
      got.map(text),
      Array.from({ length: 201 }, (_, i) => `m${i}`),
      'all, in order, once',
    );
    t.equal(got[0]!.origin, atSite.routerId, 'the origin is the site router');
    await backlogDrained(atSite);
  },
);

t.test(
  'trunk: with the designated router down the site keeps working, and the backlog drains by itself when it returns',
  async (t) => {
    const tier = await makeTier(t, 1);
    const site = tier.sites[0]!;
    await site.start(); // the designated router is not there yet
    const a = await tier.agent('a');
    const atSite = await site.connect(a);
    const local = await atSite.subscribe('o/*', { id: 'local' });
    for (let i = 0; i < 50; i++) await atSite.publish('o/x', `m${i}`);
    t.same(
      (await take(local, 50)).map(text).slice(0, 3),
      ['m0', 'm1', 'm2'],
      'local delivery without an uplink',
    );
    const before = await trunkStatus(atSite);
    t.equal(before.backlog, 50, 'the trunk holds all 50 on disk');
    t.not(before.link, 'up');

    // The designated router appears, with a durable subscriber.
    await tier.dr.start();
    const drAgent = await tier.dr.connect(a);
    const atDr = await drAgent.subscribe('o/*', { id: 'dr-sub' });
    await atDr.close();
    await backlogDrained(atSite, 60_000);
    t.pass('the backlog drained without any new publish');

    // Down again: publishes queue at the site; the DR's queue survives kill -9.
    await tier.dr.kill('SIGKILL');
    for (let i = 50; i < 100; i++) await atSite.publish('o/x', `m${i}`);
    t.equal(
      (await trunkStatus(atSite)).backlog,
      50,
      'queued again while the DR is down',
    );
    await tier.dr.start();
    const atDr2 = await (
      await tier.dr.connect(a)
    ).subscribe('o/*', { id: 'dr-sub' });
    const got = await take(atDr2, 100);
    t.same(
      got.map(text),
      Array.from({ length: 100 }, (_, i) => `m${i}`),
      'everything, once, in order',
    );
    await uplinkReaches(atSite, (s) => s.connects >= 2);
    t.pass('the site reconnected by itself');
  },
);

t.test(
  'trunk: a designated router killed after acking does not receive the acked messages twice',
  async (t) => {
    const tier = await makeTier(t, 1);
    await tier.dr.start();
    const site = tier.sites[0]!;
    await site.start();
    const a = await tier.agent('a');
    const drAgent = await tier.dr.connect(a);
    const atDr = await drAgent.subscribe('k/*', { id: 'dr-sub' });
    const atSite = await site.connect(a);
    for (let i = 0; i < 100; i++) await atSite.publish('k/x', `m${i}`);
    await backlogDrained(atSite);
    const first = await take(atDr, 100);
    await atDr.close();
    await tier.dr.kill('SIGKILL');
    for (let i = 100; i < 120; i++) await atSite.publish('k/x', `m${i}`);
    await tier.dr.start();
    const again = await (
      await tier.dr.connect(a)
    ).subscribe('k/*', { id: 'dr-sub' });
    const rest = await take(again, 20);
    t.same(
      first.map(text),
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    t.same(
      rest.map(text),
      Array.from({ length: 20 }, (_, i) => `m${i + 100}`),
      'only the new ones, once',
    );
    await atSite.publish('k/x', 'end');
    const [last] = await take(again, 1);
    t.equal(last ? text(last) : '', 'end', 'nothing resent was queued twice');
  },
);

t.test(
  'trunk: a site router killed in the middle of a drain loses nothing and repeats nothing',
  async (t) => {
    const tier = await makeTier(t, 1);
    const site = tier.sites[0]!;
    await site.start();
    const a = await tier.agent('a');
    const atSite = await site.connect(a);
    const N = 3000;
    const pending = [];
    for (let i = 0; i < N; i++) pending.push(atSite.publish('s/x', String(i)));
    await Promise.all(pending);
    await atSite.close();
    await tier.dr.start();
    const atDr = await (
      await tier.dr.connect(a)
    ).subscribe('s/*', { id: 'dr-sub' });
    // Kill the site as soon as the DR has some, but not all, of the backlog.
    const firstBatch = await take(atDr, 10);
    await site.kill('SIGKILL');
    await site.start();
    const rest = await take(atDr, N - 10);
    const all = [...firstBatch, ...rest].map(text).map(Number);
    t.equal(new Set(all).size, N, 'no duplicates');
    t.same(
      all,
      Array.from({ length: N }, (_, i) => i),
      'every message, in order',
    );
  },
);
