import t from 'tap';
import type { Agent } from '../../src/agent/index.ts';
import { backlogDrained, linkUp, text } from '../helpers/messages.ts';
import { startTier } from '../helpers/tier.ts';

const texts = (ms: Parameters<typeof text>[0][]): string[] =>
  ms.map(text).sort();

t.test(
  'query: a site forwards queries to the designated router, and answers from its own copy when the uplink is down',
  async (t) => {
    const { tier, a, atSites } = await startTier(t, 2);
    const [at1, at2] = atSites as [Agent, Agent];
    await at1.publish('p/temp', '20', { persist: true });
    await at1.publish('p/temp', '21', { persist: true }); // replaces 20
    await at1.publish('p/hum', '40', { persist: true });
    await at1.publish('p/noise', 'not kept');
    await backlogDrained(at1);

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
