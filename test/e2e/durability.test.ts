import t from 'tap';
import { take, text } from '../helpers/messages.ts';
import { makeSite } from '../helpers/site.ts';

t.test(
  'durability: a subscriber that leaves and a router killed with SIGKILL lose nothing acked and repeat nothing',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    let agent = await site.connect(a);
    let sub = await agent.subscribe('d/*', { id: 'durable' });
    for (let i = 1; i <= 10; i++) await agent.publish('d/x', `m${i}`);

    const first = await take(sub, 10, { ack: false });
    t.same(
      first.map(text),
      Array.from({ length: 10 }, (_, i) => `m${i + 1}`),
    );
    sub.ack(first[4]!); // handled m1..m5 only
    const acked = await sub.close();
    t.equal(acked, first[4]!.seq, 'the router made the ack durable');

    // While the subscriber is away, more messages arrive.
    for (let i = 11; i <= 20; i++) await agent.publish('d/x', `m${i}`);
    await agent.close();

    // Every publish above was acknowledged, so it is on disk: kill -9.
    await site.router!.kill('SIGKILL');
    await site.start();

    agent = await site.connect(a);
    sub = await agent.subscribe('d/*', { id: 'durable' });
    t.ok(sub.resumed, 'the queue was recovered');
    t.equal(sub.backlog, 15, 'm6..m20 waiting');
    const rest = await take(sub, 15, { ack: false });
    t.same(
      rest.map(text),
      Array.from({ length: 15 }, (_, i) => `m${i + 6}`),
      'm6..m20, in order, once',
    );
    sub.ack(rest[14]!);
    await sub.close();

    // Acked everything: a restart must not bring any of it back.
    await site.router!.kill('SIGKILL');
    await site.start();
    agent = await site.connect(a);
    sub = await agent.subscribe('d/*', { id: 'durable' });
    t.equal(sub.backlog, 0, 'nothing acknowledged comes back');
    await agent.publish('d/x', 'm21');
    const [next] = await take(sub, 1, { ack: false });
    t.equal(next ? text(next) : '', 'm21');
    t.ok(
      next!.seq > rest[14]!.seq,
      'sequence numbers keep growing across restarts',
    );
  },
);

t.test(
  'durability: SIGKILL while publishing loses no acknowledged publish',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    // Without reconnecting, publishes fail when the router dies.
    const agent = await site.connect(a, { reconnect: false });
    const sub = await agent.subscribe('k/*', { id: 'kill' });
    await sub.close();
    const acked: number[] = [];
    let stop = false;
    const pumping = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await agent.publish('k/x', String(i));
          acked.push(i);
        } catch {
          return; // the router died under us: later publishes were not acked
        }
      }
    })();
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 20));
    await site.router!.kill('SIGKILL');
    stop = true;
    await pumping;
    await site.start();
    const agent2 = await site.connect(a);
    const sub2 = await agent2.subscribe('k/*', { id: 'kill' });
    const got = (await take(sub2, sub2.backlog, { ack: false }))
      .map(text)
      .map(Number);
    const set = new Set(got);
    t.equal(set.size, got.length, 'no duplicates');
    t.ok(
      acked.every((i) => set.has(i)),
      `all ${acked.length} acknowledged publishes survived`,
    );
    t.same(
      got,
      [...got].sort((x, y) => x - y),
      'in publish order',
    );
  },
);
