import { FIGURE_KEYS, REPORT_KEYS } from './report-keys.ts';
import t from 'tap';
import type { ScheduleEntry } from '../../netem/index.ts';
import { loadProfile } from '../../netem/profile.ts';
import { zeroCounters } from '../../netem/shaper.ts';
import {
  downWindows,
  drainDoneAt,
  drainReference,
} from '../../netem/trial-drain.ts';
import { percentile, type TrialResult } from '../../netem/trial-result.ts';
import type { BaselineResult } from '../../netem/baseline.ts';
import {
  jsonReport,
  passed,
  scheduleText,
  textReport,
} from '../../netem/trial-report.ts';
import { DeliveryLog, payloadSeq, trialPayload } from '../../netem/workload.ts';
import { overridesOf, parseRunArgs } from '../../netem/run-args.ts';
import { withPeerTimers } from '../../netem/topology.ts';
import { progressBar, progressText } from '../../netem/progress.ts';
import { seedConfigText } from '../../harness/seed-config.ts';

const outage = (startMs: number, durationMs: number): ScheduleEntry => ({
  kind: 'outage',
  startMs,
  durationMs,
  direction: 'both',
});

t.test(
  'trial drain: windows that begin before the end of publishing count, flaps one by one',
  async (t) => {
    const schedule: ScheduleEntry[] = [
      outage(5000, 10_000),
      { kind: 'blackhole', startMs: 50_000, durationMs: 1, direction: 'up' },
      {
        kind: 'flapping',
        startMs: 1000,
        periodMs: 4000,
        downMs: 500,
        direction: 'down',
      },
      { kind: 'rebind', startMs: 100, everyMs: 100 },
    ];
    const w = downWindows(schedule, 9000);
    t.same(
      w.map((x) => [x.kind, x.startMs, x.endMs]),
      [
        ['flapping', 1000, 1500],
        ['flapping', 5000, 5500],
        ['outage', 5000, 15_000],
      ],
    );
    t.same(drainReference(schedule, 9000).atMs, 15_000, 'the latest end');
    const none = drainReference(
      [{ kind: 'rebind', startMs: 1, everyMs: 100 }],
      7000,
    );
    t.same(none, { window: undefined, atMs: 7000 }, 'else the publishing end');
  },
);

t.test(
  'trial drain: done when all arrived and, once publishing is over, the backlog was seen empty',
  async (t) => {
    const base = { refMs: 100, allArrivedMs: 150, firstEmptyMs: 170 };
    t.equal(drainDoneAt({ ...base, publishEndMs: 300 }), 150, 'publishing on');
    t.equal(drainDoneAt({ ...base, publishEndMs: 90 }), 170, 'publishing over');
    t.equal(
      drainDoneAt({ ...base, publishEndMs: 90, firstEmptyMs: undefined }),
      undefined,
    );
    t.equal(
      drainDoneAt({ ...base, publishEndMs: 300, allArrivedMs: undefined }),
      undefined,
      'a message that never arrived means no drain',
    );
  },
);

t.test('trial result: nearest-rank percentiles', async (t) => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(xs, 50), 50);
  t.equal(percentile(xs, 99), 99);
  t.equal(percentile(xs, 100), 100);
  t.equal(percentile([7.4], 1), 7);
  t.equal(percentile([], 50), null);
});

t.test(
  'delivery log: counts duplicates and overtaking apart from first arrivals',
  async (t) => {
    const sent = new Float64Array([0, 0, 0, 0, 0]);
    const log = new DeliveryLog(5, sent);
    for (const [seq, at] of [
      [0, 10],
      [2, 20],
      [1, 30],
      [2, 40],
      [3, 50],
    ] as const) {
      log.record(seq, 0, at);
    }
    log.record(undefined, 3, 60);
    log.record(99, 0, 70);
    t.equal(log.delivered, 4);
    t.equal(log.duplicated, 1);
    t.equal(log.reordered, 1, 'seq 1 came after seq 2');
    t.equal(log.foreign, 2);
    t.equal(log.queueDrops, 3, 'the highest drops figure seen');
    t.same(log.latenciesMs, [10, 20, 30, 50]);
    t.equal(log.allReceivedBelow(4), 50);
    t.equal(log.allReceivedBelow(5), undefined, 'seq 4 is missing');
    log.abandon(4);
    t.equal(log.allReceivedBelow(5), 50, 'a failed publish is not awaited');
  },
);

t.test(
  'workload: payloads carry their number and have the set size',
  async (t) => {
    const p = trialPayload(1234, 256);
    t.equal(p.length, 256);
    t.equal(payloadSeq(p), 1234);
    t.equal(payloadSeq(Buffer.from('hello')), undefined);
  },
);

t.test('runner arguments: defaults, overrides, and mistakes', async (t) => {
  const usage = { name: 'UsageError' };
  const a = parseRunArgs(['outage']);
  t.match(a, { profile: 'outage', seconds: 60, rate: 50, json: false });
  t.equal(a.seed, undefined);
  const b = parseRunArgs([
    'cellular',
    '--seconds=4',
    '--rate',
    '20',
    '--seed',
    '7',
    '--json',
    '--no-baseline',
    '--keep',
    '--set',
    'outageMs=3000',
    '--set',
    'up.lossPercent=5',
  ]);
  t.match(b, { seconds: 4, rate: 20, seed: 7, json: true, keep: true });
  t.equal(b.noBaseline, true);
  t.same(overridesOf(b.sets), { outageMs: 3000, up: { lossPercent: 5 } });
  t.throws(() => parseRunArgs([]), usage, 'a profile is required');
  t.throws(() => parseRunArgs(['x', '--rate', '0']), usage);
  t.throws(
    () => parseRunArgs(['x', '--rate', '1e9']),
    { message: /the most is 10000000/ },
    'a workload too large to track is refused',
  );
  t.throws(() => parseRunArgs(['x', '--seed', '1.5']), usage);
  t.throws(() => parseRunArgs(['x', '--bogus']), TypeError);
  t.throws(() => overridesOf(['outageMs']), usage);
  t.throws(() => overridesOf(['outageMs=soon']), usage);
});

t.test('topology: peer timings go into [PeerConfig]', async (t) => {
  const toml = withPeerTimers(seedConfigText(), {
    keepAliveS: 1,
    idleTimeoutS: 6,
  });
  t.match(
    toml,
    /\[PeerConfig\]\n(?:.*\n)*?\s*listenAddr = .*\n\s*keepAliveInterval = 1\n\s*idleTimeout = 6\n/,
  );
  t.throws(() =>
    withPeerTimers('[LocalConfig]\n', { keepAliveS: 1, idleTimeoutS: 2 }),
  );
});

async function sampleResult(): Promise<TrialResult> {
  const profile = await loadProfile('outage', { outageStartMs: 1000 });
  const counters = { ...zeroCounters(), packetsIn: 1, forwarded: 1 };
  return {
    profile,
    seed: 1,
    seconds: 4,
    ratePerSecond: 20,
    payloadBytes: 256,
    peerTimers: { keepAliveS: 1, idleTimeoutS: 6 },
    leadInMs: 3000,
    setupMs: 1200,
    lateStartMs: 0,
    published: 80,
    failed: 0,
    firstError: undefined,
    delivered: 78,
    dropped: 1,
    trunkDrops: 1,
    queueDrops: 0,
    duplicated: 0,
    reordered: 2,
    foreign: 0,
    unexplained: 1,
    p50Ms: 20,
    p99Ms: 900,
    maxLatencyMs: 950,
    drainMs: 400,
    drainFrom: {
      window: { kind: 'outage', startMs: 1000, endMs: 11_000 },
      atMs: 11_000,
    },
    publishMs: 4000,
    completed: true,
    site: {
      link: 'up',
      backlog: 0,
      drops: 1,
      connects: 1,
      connectAttempts: 1,
    },
    siteError: undefined,
    relay: {
      elapsedMs: 9000,
      state: { up: 'up', down: 'up' },
      up: counters,
      down: counters,
      clients: 1,
      rebinds: 0,
    },
    subscriberErrors: [],
    impairment: 'relay',
    network: undefined,
    dir: undefined,
  };
}

t.test(
  'trial report: JSON has exactly the agreed keys; text names the baseline and the verdict',
  async (t) => {
    const r = await sampleResult();
    const json = jsonReport(r);
    t.same(Object.keys(json).sort(), REPORT_KEYS);
    t.equal(json.baseline, null);
    t.equal(json.profile, 'outage');
    const text = textReport(r, { ran: false, reason: 'mosquitto missing' });
    t.match(text, 'baseline     not run: mosquitto missing');
    t.match(text, 'keepAliveInterval 1 s, idleTimeout 6 s');
    t.match(text, 'outage 1.0 s to 11.0 s (both)');
    t.match(text, '400 ms from the end of the last outage window at 11.0 s');
    t.match(text, 'result: FAIL (1 unexplained, 0 duplicated)');
    t.equal(passed(r), false);
    t.equal(passed({ ...r, unexplained: 0 }), true);
    t.equal(passed({ ...r, unexplained: 0, duplicated: 1 }), false);
  },
);

/** A baseline result with figures unlike the trial's sample. */
function sampleBaseline(r: TrialResult): BaselineResult {
  return {
    ...r,
    published: 50,
    delivered: 47,
    dropped: 0,
    duplicated: 2,
    reordered: 0,
    unexplained: 3,
    p50Ms: 20,
    p99Ms: 4100,
    drainMs: 2500,
    broker: 'mosquitto version 2.0.11',
    setupMs: 100,
    relay: {
      elapsedMs: 1,
      state: { up: 'up', down: 'up' },
      up: { ...tcpCounters, segmentsLost: 4 },
      down: tcpCounters,
      connections: 1,
      accepted: 3,
      refused: 1,
      reset: 2,
      rebinds: 0,
    },
    bridgeConnects: 3,
    bridgeState: 'up',
  };
}

const tcpCounters = {
  bytesIn: 0,
  bytesForwarded: 0,
  segmentsLost: 0,
  chunksStalled: 0,
  heldBytes: 0,
};

t.test(
  'trial report: the baseline has the same JSON keys and a column of its own',
  async (t) => {
    const r = await sampleResult();
    const b = sampleBaseline(r);
    const json = jsonReport(r, { ran: true, result: b });
    t.same(Object.keys(json.baseline ?? {}).sort(), FIGURE_KEYS);
    t.match(json.baseline, { published: 50, unexplained: 3, duplicated: 2 });
    t.not(json.published, 50, 'the top level keeps wavemq figures');
    const text = textReport(r, { ran: true, result: b });
    t.match(text, /comparison +wavemq \(QUIC\) +Mosquitto bridge/);
    t.match(text, /unexplained +1 +3\n/);
    t.match(text, /drain +400 ms +2500 ms\n/);
    t.match(text, 'mosquitto version 2.0.11');
    t.match(text, 'result: FAIL (1 unexplained', 'verdict is wavemq alone');
  },
);

t.test('trial report: schedule entries in words', async (t) => {
  t.equal(
    scheduleText({ kind: 'rebind', startMs: 30_000, everyMs: 30_000 }),
    'rebind every 30.0 s from 30.0 s',
  );
  t.equal(
    scheduleText({
      kind: 'flapping',
      startMs: 15_000,
      periodMs: 20_000,
      downMs: 5000,
      direction: 'up',
    }),
    'flapping: down 5.0 s every 20.0 s from 15.0 s (up)',
  );
});

t.test('progress: a bar and a line of figures', async (t) => {
  t.equal(progressBar(0.5), `[${'#'.repeat(12)}${'.'.repeat(12)}]`);
  t.equal(progressBar(7), `[${'#'.repeat(24)}]`);
  const p = {
    elapsedMs: 1500,
    totalMs: 4000,
    published: 30,
    delivered: 28,
    backlog: 2,
    link: 'up',
    relay: 'up/up',
  };
  t.equal(
    progressText({ ...p, phase: 'publishing' }),
    '1.5/4.0 s  published 30  delivered 28  backlog 2  link up  relay up/up',
  );
  t.match(
    progressText({ ...p, phase: 'draining', elapsedMs: 5000 }),
    /^drain \+1\.0 s /,
  );
});
