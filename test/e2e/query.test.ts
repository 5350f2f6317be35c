import t from 'tap';
import { linkUp } from '../helpers/messages.ts';
import { makeTier } from '../helpers/tier.ts';
import { eventually } from '../helpers/processes.ts';

const texts = (ms: { payloads: { content: Uint8Array }[] }[]): string[] =>
  ms.map((m) => Buffer.from(m.payloads[0]!.content).toString()).sort();

t.test(
  'query: a site forwards queries to the designated router, and answers from its own copy when the uplink is down',
  async (t) => {
    const tier = await makeTier(t, 2);
    await tier.dr.start();
    const [s1, s2] = tier.sites as [typeof tier.dr, typeof tier.dr];
    await s1.start();
    await s2.start();
    const a = await tier.agent('a');
    const at1 = await s1.connect(a);
    const at2 = await s2.connect(a);
    await linkUp(at1, true);
    await linkUp(at2, true);
    await at1.publish('p/temp', '20', { persist: true });
    await at1.publish('p/temp', '21', { persist: true }); // replaces 20
    await at1.publish('p/hum', '40', { persist: true });
    await at1.publish('p/noise', 'not kept');
    await eventually(async () =>
      ((await at1.status())['namespaces'] as { backlog: number }[])[0]!
        .backlog === 0
        ? true
        : undefined,
    );

    const fromUp = await at2.query('p/*');
    t.same(
      texts(fromUp),
      ['21', '40'],
      'site 2 sees the last persisted message per URI, from upstream',
    );
    t.equal(fromUp.stale, false, 'a fresh answer');
    t.same(texts(await at1.query('p/+')), ['21', '40'], 'so does site 1');
    const dr = await tier.dr.connect(a);
    t.same(
      texts(await dr.query('p/temp')),
      ['21'],
      'and the designated router itself',
    );

    await tier.dr.kill('SIGKILL');
    await linkUp(at1, false);
    const local = await at1.query('p/*');
    t.same(
      texts(local),
      ['21', '40'],
      'uplink down: site 1 answers from what it has seen',
    );
    t.equal(local.stale, true, 'and says it may be stale');
  },
);
