import t, { type Test } from 'tap';
import { ImpairmentRelay } from '../../netem/relay.ts';
import { parseProfile, type ProfileOverrides } from '../../netem/profile.ts';
import {
  percentile,
  sendNumbered,
  udpClient,
  udpSink,
  waitFor,
  type Endpoint,
} from './udp.ts';

/** A relay from 127.0.0.1 to `upstream` with the given profile JSON. */
async function relayTo(
  t: Test,
  upstream: Endpoint,
  json: unknown,
  extra: { seed?: number; overrides?: ProfileOverrides } = {},
) {
  const profile = parseProfile('test', json, extra.overrides);
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: upstream.port },
    profile,
    seed: extra.seed ?? 1,
  });
  const { port } = await relay.start();
  t.teardown(() => relay.stop());
  return { relay, port };
}

/**
 * Waits until the relay has taken all `sent` datagrams, holds none, and
 * the sink has everything forwarded.
 */
async function drained(relay: ImpairmentRelay, sink: Endpoint, sent: number) {
  const up = () => relay.stats().up;
  await waitFor(() => up().packetsIn === sent, 'relay took every datagram');
  await waitFor(() => up().heldPackets === 0, 'relay holds nothing');
  await waitFor(() => sink.arrivals.length === up().forwarded, 'sink has all');
}

async function endpoints(t: Test) {
  const sink = await udpSink();
  const client = await udpClient();
  t.teardown(async () => {
    await sink.close();
    await client.close();
  });
  return { sink, client };
}

t.test(
  'relay: measured loss matches lossPercent over 2000 datagrams',
  async (t) => {
    const { sink, client } = await endpoints(t);
    const { relay, port } = await relayTo(t, sink, { up: { lossPercent: 10 } });
    await sendNumbered(client, port, 2000);
    const settled = () => {
      const s = relay.stats().up;
      return s.forwarded + s.droppedLoss === 2000;
    };
    await waitFor(settled, 'every datagram decided');
    const up = relay.stats().up;
    await waitFor(
      () => sink.arrivals.length === up.forwarded,
      'sink caught up',
    );
    const lossPct = (100 * (2000 - sink.arrivals.length)) / 2000;
    t.equal(up.packetsIn, 2000, 'every datagram reached the relay');
    t.equal(up.droppedLoss, 2000 - sink.arrivals.length, 'drops are counted');
    // Binomial sd at n=2000, p=0.1 is 0.67 points; 3 sd is 2 points.
    t.ok(Math.abs(lossPct - 10) <= 2, `loss ${lossPct.toFixed(2)} %`);
  },
);

/*
 * Latency through real sockets is the relay's delay plus whatever the
 * event loop adds, which only ever makes packets later. The bounds below
 * are strict where lateness cannot help (nothing early) and loose where
 * a busy machine could push packets back; the exact distributions are
 * checked on a manual clock in shaper.test.ts.
 */
t.test(
  'relay: delay and uniform jitter shape the one-way latency',
  async (t) => {
    const { sink, client } = await endpoints(t);
    const { port: relayPort } = await relayTo(t, sink, {
      up: { delayMs: 40, jitterMs: 10 },
    });
    await sendNumbered(client, relayPort, 300, { burst: 3 });
    await waitFor(() => sink.arrivals.length === 300, 'all arrived');
    const latency = sink.arrivals.map((a) => a.atMs - a.sentMs);
    const [min, p10, p50, p90, max] = [0, 10, 50, 90, 100].map((p) =>
      percentile(latency, p),
    ) as [number, number, number, number, number];
    t.comment(
      `latency min ${min.toFixed(1)} p10 ${p10.toFixed(1)} ` +
        `p50 ${p50.toFixed(1)} p90 ${p90.toFixed(1)} max ${max.toFixed(1)} ms`,
    );
    t.ok(min >= 30, 'nothing faster than delay - jitter');
    t.ok(p50 >= 38 && p50 <= 48, 'median near the delay');
    t.ok(p90 - p10 >= 12, 'jitter spreads the latency (16 ms expected)');
    t.ok(p10 <= 36, 'the low end stays near delay - jitter');
  },
);

t.test('relay: normal jitter has the configured spread', async (t) => {
  const { sink, client } = await endpoints(t);
  const { port } = await relayTo(t, sink, {
    up: { delayMs: 50, jitterMs: 10, jitterDistribution: 'normal' },
  });
  await sendNumbered(client, port, 400, { burst: 4 });
  await waitFor(() => sink.arrivals.length === 400, 'all arrived');
  const latency = sink.arrivals.map((a) => a.atMs - a.sentMs);
  const p25 = percentile(latency, 25);
  const p50 = percentile(latency, 50);
  const p75 = percentile(latency, 75);
  t.comment(
    `latency p25 ${p25.toFixed(1)} p50 ${p50.toFixed(1)} ` +
      `p75 ${p75.toFixed(1)} ms`,
  );
  t.ok(p50 >= 48 && p50 <= 58, 'median near the delay');
  // For a normal distribution the interquartile range is 1.35 sd.
  t.ok(p75 - p25 >= 10 && p75 - p25 <= 20, 'quartiles 13.5 ms apart');
  t.ok(percentile(latency, 2) < 35, 'the tail reaches below 2 sd');
});

t.test(
  'relay: duplicates and reordered datagrams are counted and seen',
  async (t) => {
    const { sink, client } = await endpoints(t);
    const { relay, port } = await relayTo(t, sink, {
      up: { delayMs: 20, duplicatePercent: 10, reorderPercent: 20 },
    });
    await sendNumbered(client, port, 500, { burst: 1 });
    await drained(relay, sink, 500);
    const s = relay.stats().up;
    const seen = new Map<number, number>();
    for (const a of sink.arrivals) seen.set(a.seq, (seen.get(a.seq) ?? 0) + 1);
    const dupSeen = [...seen.values()].filter((n) => n === 2).length;
    t.equal(seen.size, 500, 'every datagram arrived');
    t.equal(s.forwarded, 500 + s.duplicated, 'forwarded counts the copies');
    t.equal(dupSeen, s.duplicated, 'the sink saw each duplicate');
    t.ok(Math.abs(s.duplicated / 5 - 10) <= 4, `duplicated ${s.duplicated}`);
    // An overtaker arrives while an earlier datagram is still on its way.
    let overtakers = 0;
    let lowestMissing = 0;
    const arrived = new Set<number>();
    for (const a of sink.arrivals) {
      if (arrived.has(a.seq)) continue;
      arrived.add(a.seq);
      if (a.seq > lowestMissing) overtakers++;
      while (arrived.has(lowestMissing)) lowestMissing++;
    }
    const reorderPct = (100 * s.reordered) / s.forwarded;
    t.comment(`reordered ${s.reordered}, overtakers seen ${overtakers}`);
    t.ok(
      Math.abs(reorderPct - 20) <= 5,
      `reordered ${reorderPct.toFixed(1)} %`,
    );
    t.ok(overtakers >= s.reordered * 0.8, 'reordering is visible at the sink');
  },
);

t.test(
  'relay: the rate holds throughput and tail-drops past the queue',
  async (t) => {
    const { sink, client } = await endpoints(t);
    const rateBitsPerSecond = 2_000_000;
    const { relay, port } = await relayTo(t, sink, {
      up: { rateBitsPerSecond, rateQueueBytes: 60_000 },
    });
    // Offered: 5 x 1000 B every 10 ms, about twice the rate, for 0.6 s;
    // the queue (240 ms of the rate) rides out short stalls of the sender.
    await sendNumbered(client, port, 300, {
      bytes: 1000,
      burst: 5,
      pauseMs: 10,
    });
    await drained(relay, sink, 300);
    const { forwarded, droppedRateQueue } = relay.stats().up;
    t.equal(forwarded + droppedRateQueue, 300, 'each datagram sent or dropped');
    // How much is offered depends on how busy the machine is; some of it
    // must overflow the queue.
    t.ok(droppedRateQueue > 0, `tail-dropped ${droppedRateQueue}`);
    const first = sink.arrivals[0]!.atMs;
    const last = sink.arrivals.at(-1)!.atMs;
    const bits = (sink.arrivals.length - 1) * (1000 + 28) * 8;
    const achieved = bits / ((last - first) / 1000);
    t.comment(`rate achieved ${(achieved / 1e6).toFixed(3)} Mbit/s`);
    // The shaper must never let more through than the rate; a stalled
    // event loop can only stretch the span (lower the figure), so only the
    // upper side is strict.
    t.ok(achieved <= rateBitsPerSecond * 1.08, 'at most the rate (+8 %)');
    t.ok(achieved >= rateBitsPerSecond * 0.5, 'and not starved');
  },
);
