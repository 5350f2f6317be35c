import t from 'tap';
import { makeSite } from '../helpers/site.ts';
import type { ReceivedMessage } from '../../src/agent/index.ts';

t.test(
  'limits: a full subscription queue drops the oldest and the subscriber sees the count',
  async (t) => {
    const site = await makeSite(t, (toml) =>
      toml.replace(
        'subscriptionQueueMaxLength = 10000',
        'subscriptionQueueMaxLength = 5',
      ),
    );
    await site.start();
    const a = await site.agent('a');
    const agent = await site.connect(a);
    const sub = await agent.subscribe('l/*', { id: 'small' });
    await sub.close();
    for (let i = 1; i <= 12; i++) await agent.publish('l/x', `m${i}`);

    const again = await agent.subscribe('l/*', { id: 'small' });
    t.equal(again.backlog, 5, 'only the newest five were kept');
    const got: ReceivedMessage[] = [];
    for await (const m of again) {
      got.push(m);
      if (got.length === 5) break;
    }
    t.same(
      got.map((m) => Buffer.from(m.payloads[0]!.content).toString()),
      ['m8', 'm9', 'm10', 'm11', 'm12'],
    );
    t.equal(
      got[0]!.drops,
      7,
      'the seven dropped messages are counted in what is delivered',
    );
  },
);
