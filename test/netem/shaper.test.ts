import t from 'tap';
import { parseProfile } from '../../netem/index.ts';
import { DirectionShaper } from '../../netem/shaper.ts';
import { ManualScheduler } from '../../netem/scheduler.ts';
import { seededRandom, chance } from '../../netem/random.ts';
import type { LinkState } from '../../netem/schedule.ts';

/** A shaper on a manual clock recording (packet, delivery time) pairs. */
function shaper(json: Record<string, unknown>, seed = 1) {
  const scheduler = new ManualScheduler(0);
  const out: { id: number; atMs: number }[] = [];
  const s = new DirectionShaper<number>({
    impairment: parseProfile('t', { up: json }).up,
    scheduler,
    random: seededRandom(seed),
    deliver: (id) => {
      out.push({ id, atMs: scheduler.now() });
      return true;
    },
  });
  const offer = (n: number, bytes = 100, state: LinkState = 'up') => {
    for (let i = 0; i < n; i++) s.offer(i, bytes, state);
  };
  return { s, scheduler, out, offer };
}

t.test(
  'random: a seed replays its sequence and the numbers are uniform',
  async (t) => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const seqA = Array.from({ length: 5 }, a);
    t.same(seqA, Array.from({ length: 5 }, b), 'same seed, same numbers');
    t.not(seededRandom(43)(), seqA[0], 'another seed differs');
    const r = seededRandom(7);
    let sum = 0;
    let hits = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      if (x < 0 || x >= 1) outside++;
      sum += x;
      if (chance(r, 10)) hits++;
    }
    t.equal(outside, 0, 'all in [0, 1)');
    t.ok(Math.abs(sum / 100_000 - 0.5) < 0.005, 'mean 0.5');
    t.ok(Math.abs(hits / 1000 - 10) < 0.3, `chance(10) hit ${hits / 1000} %`);
  },
);

t.test('shaper: random loss over 20 000 packets is within 3 sd', async (t) => {
  const { s, out, offer } = shaper({ lossPercent: 3 });
  offer(20_000);
  const lossPct = (100 * s.counters.droppedLoss) / 20_000;
  t.equal(out.length + s.counters.droppedLoss, 20_000);
  // sd of the rate at n=20 000, p=0.03: 0.12 points.
  t.ok(Math.abs(lossPct - 3) < 0.36, `loss ${lossPct.toFixed(2)} %`);
});

t.test(
  'shaper: Gilbert-Elliott loss comes in bursts of the mean length',
  async (t) => {
    const { out, offer } = shaper({
      lossBurst: { goodToBadPercent: 1, badToGoodPercent: 25 },
    });
    offer(50_000);
    const got = new Set(out.map((p) => p.id));
    let runs = 0;
    let lost = 0;
    for (let i = 0; i < 50_000; i++) {
      if (got.has(i)) continue;
      lost++;
      if (i === 0 || got.has(i - 1)) runs++;
    }
    const lossPct = (100 * lost) / 50_000;
    const meanRun = lost / runs;
    t.comment(`loss ${lossPct.toFixed(2)} %, mean burst ${meanRun.toFixed(2)}`);
    t.ok(Math.abs(lossPct - 100 / 26) < 0.8, 'stationary loss p/(p+r)');
    t.ok(Math.abs(meanRun - 4) < 0.5, 'mean burst 1/r');
  },
);

t.test(
  'shaper: a fixed delay delivers each packet exactly that much later',
  async (t) => {
    const { scheduler, out, offer } = shaper({ delayMs: 250 });
    offer(3);
    scheduler.advanceTo(249.9);
    t.equal(out.length, 0, 'nothing early');
    scheduler.advanceTo(250);
    t.same(
      out,
      [0, 1, 2].map((id) => ({ id, atMs: 250 })),
    );
  },
);

t.test('shaper: uniform jitter stays within delay ± jitter', async (t) => {
  const { scheduler, out, offer } = shaper({ delayMs: 100, jitterMs: 20 });
  offer(5_000);
  scheduler.advanceTo(1_000);
  const times = out.map((p) => p.atMs);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  t.ok(Math.min(...times) >= 80 && Math.max(...times) <= 120, 'in range');
  t.ok(Math.abs(mean - 100) < 0.5, `mean ${mean.toFixed(2)}`);
  t.ok(Math.max(...times) - Math.min(...times) > 39, 'the range is used');
});

t.test(
  'shaper: the rate serialises packets and tail-drops past the queue',
  async (t) => {
    // 1222 B + 28 B header = 10 000 bits = 10 ms at 1 Mbit/s.
    const { s, scheduler, out, offer } = shaper({
      rateBitsPerSecond: 1_000_000,
      rateQueueBytes: 5 * 1222,
    });
    offer(8, 1222);
    t.equal(s.counters.droppedRateQueue, 3, 'three beyond the queue dropped');
    t.equal(s.counters.queuedBytes, 5 * 1222);
    scheduler.advanceTo(100);
    t.same(
      out.map((p) => p.atMs),
      [10, 20, 30, 40, 50],
      'one every 10 ms',
    );
    t.equal(s.counters.queuedBytes, 0, 'queue empty again');
  },
);

t.test('shaper: under a rate, jitter does not reorder', async (t) => {
  const { scheduler, out, offer } = shaper({
    rateBitsPerSecond: 100_000_000,
    delayMs: 50,
    jitterMs: 40,
  });
  offer(200);
  scheduler.advanceTo(1_000);
  t.same(
    out.map((p) => p.id),
    [...Array(200).keys()],
    'delivered in order',
  );
});

t.test('shaper: the packet limit tail-drops and counts', async (t) => {
  const { s, scheduler, out, offer } = shaper({
    delayMs: 100,
    limitPackets: 10,
  });
  offer(15);
  t.equal(s.counters.droppedLimit, 5);
  t.equal(s.counters.heldPackets, 10);
  scheduler.advanceTo(100);
  t.equal(out.length, 10);
  t.equal(s.counters.heldPackets, 0, 'released on delivery');
});

t.test(
  'shaper: duplicates and reordering are counted and delivered',
  async (t) => {
    const { s, scheduler, out, offer } = shaper({
      delayMs: 10,
      duplicatePercent: 20,
      reorderPercent: 30,
      limitPackets: 100_000,
    });
    offer(10_000);
    scheduler.advanceTo(10);
    const c = s.counters;
    t.equal(out.length, 10_000 + c.duplicated, 'each copy delivered');
    t.ok(
      Math.abs(c.duplicated / 100 - 20) < 1.5,
      `dup ${c.duplicated / 100} %`,
    );
    const early = out.filter((p) => p.atMs === 0).length;
    t.equal(early, c.reordered, 'reordered ones skipped the delay');
    t.ok(Math.abs((100 * early) / out.length - 30) < 1.5, 'about 30 %');
  },
);

t.test(
  'shaper: a down or blackholed link drops and counts by cause',
  async (t) => {
    const { s, out, offer } = shaper({});
    offer(2, 100, 'outage');
    offer(3, 100, 'flapping');
    offer(4, 100, 'manual-down');
    offer(5, 100, 'blackhole');
    offer(1, 100, 'up');
    t.equal(s.counters.droppedOutage, 9);
    t.equal(s.counters.droppedBlackhole, 5);
    t.equal(s.counters.packetsIn, 15);
    t.equal(out.length, 1);
  },
);
