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

t.test(
  'relay: delay and uniform jitter bound the one-way latency',
  async (t) => {
    const { sink, client } = await endpoints(t);
    const { port: relayPort } = await relayTo(t, sink, {
      up: { delayMs: 40, jitterMs: 10 },
    });
    await sendNumbered(client, relayPort, 300, { burst: 3 });
    await waitFor(() => sink.arrivals.length === 300, 'all arrived');
    const latency = sink.arrivals.map((a) => a.atMs - a.sentMs);
    const [p0, p50, p100] = [0, 50, 100].map((p) => percentile(latency, p));
    t.comment(
      `latency min ${p0?.toFixed(1)} p50 ${p50?.toFixed(1)} max ${p100?.toFixed(1)} ms`,
    );
    t.ok(p0! >= 30, 'nothing faster than delay - jitter');
    t.ok(Math.abs(p50! - 40.5) <= 3, 'median near the delay');
    t.ok(
      p100! <= 50 + 5,
      'nothing slower than delay + jitter (+5 ms timer slack)',
    );
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
  const mean = latency.reduce((a, b) => a + b, 0) / latency.length;
  const sd = Math.sqrt(
    latency.reduce((a, b) => a + (b - mean) ** 2, 0) / latency.length,
  );
  t.comment(`latency mean ${mean.toFixed(1)} sd ${sd.toFixed(1)} ms`);
  t.ok(Math.abs(mean - 50.5) <= 2, 'mean near the delay');
  t.ok(sd >= 8 && sd <= 12, 'deviation near jitterMs');
});

t.test(
  'relay: duplicates and reordered datagrams are counted and seen',
  async (t) => {
    const { sink, client } = await endpoints(t);
    const { relay, port } = await relayTo(t, sink, {
      up: { delayMs: 20, duplicatePercent: 10, reorderPercent: 20 },
    });
    await sendNumbered(client, port, 500, { burst: 1 });
    const up = () => relay.stats().up;
    await waitFor(() => sink.arrivals.length === up().forwarded, 'drained');
    await waitFor(() => up().heldPackets === 0, 'nothing held');
    const s = up();
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
      up: { rateBitsPerSecond, rateQueueBytes: 20_000 },
    });
    // Offered: 5 x 1000 B every 10 ms, about twice the rate, for 0.6 s.
    await sendNumbered(client, port, 300, {
      bytes: 1000,
      burst: 5,
      pauseMs: 10,
    });
    const s = () => relay.stats().up;
    await waitFor(() => s().heldPackets === 0, 'queue drained');
    await waitFor(
      () => sink.arrivals.length === s().forwarded,
      'sink caught up',
    );
    const { forwarded, droppedRateQueue } = s();
    t.equal(forwarded + droppedRateQueue, 300, 'each datagram sent or dropped');
    t.ok(droppedRateQueue > 50, `tail-dropped ${droppedRateQueue}`);
    const first = sink.arrivals[0]!.atMs;
    const last = sink.arrivals.at(-1)!.atMs;
    const bits = (sink.arrivals.length - 1) * (1000 + 28) * 8;
    const achieved = bits / ((last - first) / 1000);
    t.comment(`rate achieved ${(achieved / 1e6).toFixed(3)} Mbit/s`);
    t.ok(Math.abs(achieved / rateBitsPerSecond - 1) <= 0.05, 'within 5 %');
  },
);
