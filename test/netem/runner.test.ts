// Short trials of every shipped link profile through the netem runner:
// real router processes, the impairment relay on loopback, 4 s of
// publishing at 20 msg/s, schedules shortened to fit. Each takes about
// 10-15 s; they run one after another.
import { FIGURE_KEYS, REPORT_KEYS } from './report-keys.ts';
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../../netem/command.ts';
import { findMosquitto } from '../../netem/mosquitto.ts';
import type { ProfileOverrides } from '../../netem/profile-types.ts';
import type { PeerTimers } from '../../netem/topology.ts';
import { runTrial, type TrialResult } from '../../netem/trial.ts';
import { REPO } from '../../harness/processes.ts';

/** Short link timings, so a dead QUIC path is noticed within 3 s. */
const FAST_TIMERS: PeerTimers = { keepAliveS: 0.5, idleTimeoutS: 3 };

async function trial(
  profile: string,
  overrides: ProfileOverrides = {},
  peerTimers?: PeerTimers,
): Promise<TrialResult> {
  return runTrial({
    profile,
    overrides,
    seconds: 4,
    ratePerSecond: 20,
    seed: 11,
    leadInMs: 2500,
    drainTimeoutMs: 60_000,
    ...(peerTimers ? { peerTimers } : {}),
  });
}

/** The runner's promise: everything published is delivered or counted. */
function accounted(t: Test, r: TrialResult): void {
  t.equal(r.published, 80, 'every publish acknowledged');
  t.equal(r.unexplained, 0, 'no unexplained loss');
  t.equal(r.duplicated, 0, 'no duplicates');
  t.equal(
    r.delivered,
    r.published - r.dropped,
    'delivered = published - dropped',
  );
  t.ok(r.completed, 'the drain finished within its bound');
  t.not(r.drainMs, null, 'a drain time was measured');
  t.comment(
    `delivered ${r.delivered}, reordered ${r.reordered}, p50 ${r.p50Ms} ms, ` +
      `p99 ${r.p99Ms} ms, drain ${r.drainMs} ms, ` +
      `connects ${r.site?.connects}, rebinds ${r.relay!.rebinds}`,
  );
}

t.comment(
  'trials started in this process run on loopback; the command line ' +
    'uses network namespaces when run as root',
);

t.test(
  'netem runner: cellular through the command line prints the agreed JSON and exits 0',
  async (t) => {
    const run = await runCli([
      'cellular',
      '--seconds',
      '4',
      '--rate',
      '20',
      '--seed',
      '3',
      '--json',
      '--no-baseline',
    ]);
    t.equal(run.code, 0, `exit 0 (stderr: ${run.stderr.slice(-500)})`);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    t.same(Object.keys(report).sort(), REPORT_KEYS);
    t.match(report, {
      profile: 'cellular',
      baseline: null,
      published: 80,
      unexplained: 0,
      duplicated: 0,
    });
    t.equal(report['delivered'], 80 - Number(report['dropped']));
    t.type(report['p99Ms'], 'number');
  },
);

const mosquitto = findMosquitto() !== undefined || isRoot();

t.test(
  'netem runner: an outage with the Mosquitto baseline reports both sides with the same keys',
  {
    skip: mosquitto
      ? false
      : 'mosquitto is not installed and installing it needs root',
  },
  async (t) => {
    const run = await runCli([
      'outage',
      '--set',
      'outageStartMs=1000',
      '--set',
      'outageMs=2000',
      '--seconds',
      '4',
      '--rate',
      '20',
      '--seed',
      '5',
      '--json',
    ]);
    t.equal(run.code, 0, `exit 0 (stderr: ${run.stderr.slice(-500)})`);
    t.match(run.stderr, 'Mosquitto bridge (baseline)');
    if (isRoot()) {
      const ns = /network namespaces (wmq-\w+-site)/.exec(run.stderr)?.[1];
      t.ok(ns, 'as root, the run used network namespaces');
      t.notOk(existsSync(`/run/netns/${ns}`), 'and removed them');
    }
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    t.match(report, { profile: 'outage', published: 80, unexplained: 0 });
    const baseline = report['baseline'] as Record<string, unknown> | null;
    t.ok(baseline, 'the baseline ran');
    t.same(Object.keys(baseline ?? {}).sort(), FIGURE_KEYS);
    t.equal(baseline?.['published'], 80, 'the same workload was published');
    t.type(baseline?.['p50Ms'], 'number');
    t.comment(`baseline: ${JSON.stringify(baseline)}`);
  },
);

t.test('netem runner: satellite loses nothing unexplained', async (t) => {
  const r = await trial('satellite');
  accounted(t, r);
  t.ok(r.p50Ms! >= 300, 'latency includes the 300 ms one-way delay');
});

t.test('netem runner: lossy loses nothing unexplained', async (t) => {
  const r = await trial('lossy');
  accounted(t, r);
  t.ok(r.relay!.up.droppedLoss > 0, 'the relay did lose packets');
});

t.test('netem runner: an outage is ridden out and drained', async (t) => {
  const r = await trial('outage', { outageStartMs: 1000, outageMs: 2000 });
  accounted(t, r);
  t.ok(r.relay!.up.droppedOutage > 0, 'packets met the outage');
  t.equal(r.drainFrom.window?.kind, 'outage', 'drain timed from the outage');
});

t.test('netem runner: a flapping link loses nothing', async (t) => {
  const r = await trial('flapping', {
    flapStartMs: 500,
    flapPeriodMs: 1500,
    flapDownMs: 600,
  });
  accounted(t, r);
  t.ok(r.relay!.up.droppedOutage > 0, 'packets met the flaps');
});

t.test(
  'netem runner: repeated NAT rebindings are followed by the one uplink connection',
  async (t) => {
    const r = await trial('rebind', { rebindEveryMs: 1200 }, FAST_TIMERS);
    accounted(t, r);
    t.ok(r.relay!.rebinds >= 2, `rebound ${r.relay!.rebinds} times`);
    t.equal(r.site?.connects, 1, 'the uplink never had to connect again');
  },
);

t.test(
  'netem runner: a blackhole longer than the idle timeout ends the link, which comes back by itself',
  async (t) => {
    const r = await trial(
      'blackhole',
      { blackholeStartMs: 1000, blackholeMs: 4000 },
      FAST_TIMERS,
    );
    accounted(t, r);
    t.ok(r.relay!.up.droppedBlackhole > 0, 'packets vanished');
    t.ok((r.site?.connects ?? 0) >= 2, 'the uplink connected again');
  },
);

t.test('netem runner: a bad option or profile exits 2', async (t) => {
  const [bad, unknown] = await Promise.all([
    runCli(['cellular', '--rate', 'fast']),
    runCli(['no-such-profile', '--seconds', '1']),
  ]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--rate must be a number/);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /no-such-profile/);
});

t.test(
  'netem runner: SIGINT kills the routers and removes the folder',
  async (t) => {
    const before = new Set(await trialDirs());
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'netem', 'run.ts'), 'plain'],
      { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) =>
      proc.once('exit', (code) => resolve(code)),
    );
    // Publishing has begun once a progress line (`published N`) appears.
    await new Promise<void>((resolve) => {
      proc.stderr.on('data', (d: Buffer) => {
        if (d.toString().includes('published')) resolve();
      });
    });
    const dir = (await trialDirs()).find((d) => !before.has(d));
    t.ok(dir, 'the trial made a folder');
    t.ok(await routersUsing(dir!), 'routers run from it');
    proc.kill('SIGINT');
    t.equal(await exited, 130, 'exit 130');
    t.notOk(await routersUsing(dir!), 'no router left running');
    t.notOk((await trialDirs()).includes(dir!), 'the folder is gone');
  },
);

async function trialDirs(): Promise<string[]> {
  const names = await readdir(tmpdir());
  return names
    .filter((n) => n.startsWith('wavemq-netem-'))
    .map((n) => join(tmpdir(), n));
}

/** True when a live process has `dir` in its command line. */
async function routersUsing(dir: string): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // A zombie has exited; only its parent's bookkeeping is left.
    if (cmd.includes(dir) && !/\) Z /.test(state)) return true;
  }
  return false;
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliRun> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'netem', 'run.ts'), ...args],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGINT'), 90_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
