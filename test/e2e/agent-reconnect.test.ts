// Agents that reconnect by themselves ride through a router killed with
// SIGKILL and restarted on the same port and data: publishes resolve,
// subscriptions go on, each message arrives once and in order.
import t from 'tap';
import type {
  Agent,
  AgentState,
  ReceivedMessage,
} from '../../src/agent/index.ts';
import { text } from '../helpers/messages.ts';
import { makeSite } from '../helpers/site.ts';

/** Resolves once `agent` is in `state` (at once if it is already). */
function reaches(agent: Agent, state: AgentState): Promise<void> {
  if (agent.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const off = agent.onStateChange((s) => {
      if (s !== state) return;
      off();
      resolve();
    });
  });
}

/** Every state `agent` goes through from now on. */
function recordStates(agent: Agent): AgentState[] {
  const seen: AgentState[] = [];
  agent.onStateChange((s) => seen.push(s));
  return seen;
}

/** The iterator's next message; throws if it ended. */
async function nextMessage(
  it: AsyncIterator<ReceivedMessage>,
): Promise<ReceivedMessage> {
  const r = await it.next();
  if (r.done === true) throw new Error('the subscription ended');
  return r.value;
}

const pause = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

t.test(
  'agent reconnect: a publisher and a durable subscriber ride through a router killed with SIGKILL; every publish resolves, each message arrives once, in order',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const subscriber = await site.connect(await site.agent('s'));
    const publisher = await site.connect(await site.agent('p'));
    const pubStates = recordStates(publisher);
    const subStates = recordStates(subscriber);
    const sub = await subscriber.subscribe('ride/*', { id: 'ride' });

    // One iterator for the whole run, reading until the closing message.
    const got: ReceivedMessage[] = [];
    const reading = (async () => {
      for await (const m of sub) {
        sub.ack(m);
        if (text(m) === 'end') return;
        got.push(m);
      }
    })();

    let total = 0;
    const acks: Promise<void>[] = [];
    const acked = new Set<number>();
    /** Publishes while `more()` holds, `burst` per pause. */
    const publishWhile = async (more: () => boolean, burst: number) => {
      while (more()) {
        const k = total++;
        const ack = publisher.publish('ride/x', String(k));
        acks.push(ack.then(() => void acked.add(k)));
        if (total % burst === 0) await pause(5);
      }
    };
    // Bursts, so that batches are in flight when the router dies.
    await publishWhile(() => total < 300, 10);
    await publishWhile(() => total < 400, 100);
    const unackedAtKill = new Set(
      Array.from({ length: total }, (_, k) => k).filter((k) => !acked.has(k)),
    );
    await site.router!.kill('SIGKILL');
    // On until the publisher knows, and 100 more made while reconnecting.
    let whileReconnecting = 0;
    await publishWhile(() => {
      if (publisher.state === 'reconnecting') whileReconnecting++;
      return whileReconnecting <= 100;
    }, 2);
    let up = false;
    const restarting = site.start().then(() => (up = true));
    await publishWhile(() => !up, 2);
    await restarting;
    const after = total + 200;
    await publishWhile(() => total < after, 10);
    await Promise.all(acks);
    t.equal(acked.size, total, 'every publish call resolved');
    await publisher.publish('ride/x', 'end');
    await reading;

    const values = got.map((m) => Number(text(m)));
    const firsts = values.filter((v, i) => values.indexOf(v) === i);
    t.same(
      firsts,
      Array.from({ length: total }, (_, i) => i),
      'every message arrived, in publish order (first arrivals)',
    );
    const seqs = got.map((m) => m.seq);
    t.ok(
      seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
      'the iterator never yielded a queue position twice',
    );
    const repeats = values.filter((v, i) => values.indexOf(v) !== i);
    t.ok(
      repeats.every((v) => unackedAtKill.has(v)),
      'anything repeated is a resend of a publish not acknowledged at the kill',
    );
    t.same(
      values,
      Array.from({ length: total }, (_, i) => i),
      'exactly once',
      {
        // The router forgets which (session, seq) it stored when it is
        // killed, so a resent publish whose append had completed before the
        // kill is stored again. This waits for durable duplicate
        // suppression in the router.
        todo: 'waits for durable duplicate suppression across restarts',
      },
    );
    t.comment(
      `${total} published, ${unackedAtKill.size} unacknowledged at ` +
        `the kill, ${whileReconnecting - 1} made while reconnecting, ` +
        `${repeats.length} repeated`,
    );
    for (const [who, seen] of [
      ['publisher', pubStates],
      ['subscriber', subStates],
    ] as const) {
      t.same(seen, ['reconnecting', 'connected'], `${who} reconnected once`);
    }
  },
);

t.test(
  'agent reconnect: a subscription iterator survives a router restart without ending or repeating; status and query wait for the router; acks reach it afterwards',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    const agent = await site.connect(a);
    const sub = await agent.subscribe('b/*', { id: 'survive' });
    for (let i = 0; i < 10; i++) await agent.publish('b/x', `m${i}`);
    await agent.publish('b/kept', 'kept', { persist: true });
    const it = sub[Symbol.asyncIterator]();
    const first: ReceivedMessage[] = [];
    for (let i = 0; i < 11; i++) first.push(await nextMessage(it));
    t.same(first.map(text), [
      ...Array.from({ length: 10 }, (_, i) => `m${i}`),
      'kept',
    ]);
    sub.ack(first[4]!); // m5 onwards stays unacknowledged: sent again

    const waiting = it.next(); // pending across the restart
    await site.router!.kill('SIGKILL');
    await reaches(agent, 'reconnecting');
    const status = agent.status();
    const query = agent.query('b/*');
    await site.start();
    t.equal(
      (await status)['subscriptions'],
      1,
      'status asked while reconnecting is answered by the new router',
    );
    t.same((await query).map(text), ['kept'], 'so is a query');
    t.equal(agent.state, 'connected');

    for (let i = 10; i < 20; i++) await agent.publish('b/x', `m${i}`);
    const next = await waiting;
    t.equal(next.done, false, 'the iterator did not end');
    const rest = [next.value as ReceivedMessage];
    for (let i = 0; i < 9; i++) rest.push(await nextMessage(it));
    t.same(
      rest.map(text),
      Array.from({ length: 10 }, (_, i) => `m${i + 10}`),
      'm10..m19 next: nothing yielded before the restart comes again',
    );
    sub.ack(rest[9]!);
    t.equal(await sub.close(), rest[9]!.seq, 'the router has the last ack');

    const again = await (
      await site.connect(a)
    ).subscribe('b/*', {
      id: 'survive',
    });
    t.equal(again.backlog, 0, 'nothing acknowledged is queued again');
  },
);
