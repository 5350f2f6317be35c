/**
 * Runs one trial of the uplink under an impairment profile, then the
 * same workload over a Mosquitto bridge through the same impairment
 * (unless --no-baseline), and reports both side by side: what was lost,
 * duplicated, reordered and how long the drain took:
 *
 *   npm run netem -- PROFILE [--seconds N] [--rate N] [--seed N] \
 *     [--set KEY=VALUE]... [--json] [--no-baseline] [--loopback] [--keep]
 *
 * As root it makes two network namespaces joined by a veth pair and runs
 * itself again inside the site's (see trial-network.ts); `--loopback`,
 * or running without root, keeps everything on 127.0.0.1.
 *
 * PROFILE is a shipped profile name or a JSON file path. `--set` changes
 * the profile (`outageStartMs=5000`, `up.lossPercent=5`). Progress goes
 * to stderr, the report to stdout. Exit 0 when wavemq lost nothing
 * without a queue counting it and duplicated nothing (the baseline's
 * figures do not change the exit code), 1 otherwise or when
 * the trial could not run, 2 on a usage or profile error, 130 when
 * interrupted.
 */
import { fileURLToPath } from 'node:url';
import { WavemqError, errorMessage } from '../src/common/errors.ts';
import {
  abandonBaselines,
  runBaseline,
  type BaselineResult,
} from './baseline.ts';
import { BaselineError } from './errors.ts';
import { isRoot } from './command.ts';
import { loadProfile, readOverrides } from './profile.ts';
import { ProgressPrinter } from './progress.ts';
import { USAGE, UsageError, overridesOf, parseRunArgs } from './run-args.ts';
import { abandonTrials, runTrial, type TrialResult } from './trial.ts';
import { networkFromEnv, runInNamespaces } from './trial-network.ts';
import {
  jsonReport,
  passed,
  textReport,
  type BaselineOutcome,
} from './trial-report.ts';

/**
 * On SIGINT or SIGTERM: kill the routers and remove the folders of
 * running trials at once, then exit 130. Runs before the handlers that
 * the process helpers install, which exit without cleaning folders.
 */
function onInterrupt(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.prependListener(signal, () => {
      process.stderr.write(`\ninterrupted (${signal}): stopping\n`);
      abandonTrials();
      abandonBaselines();
      process.exit(130);
    });
  }
}

/**
 * Time allowed on top of publishing, ms, for each of the two runs
 * (wavemq, then the baseline): starts and the uplink (each bounded at
 * 60 s), the drain wait (120 s) and stopping.
 */
const OVERHEAD_BOUND_MS = 6 * 60_000;

/** Ends the process if the trial overruns every bound it has. */
function overallBound(seconds: number): void {
  const timer = setTimeout(
    () => {
      process.stderr.write('\nnetem: the trial overran its time bound\n');
      abandonTrials();
      abandonBaselines();
      process.exit(1);
    },
    2 * (seconds * 1000 + OVERHEAD_BOUND_MS),
  );
  timer.unref();
}

/**
 * Keep-alive of the Mosquitto bridge, s: its smallest allowed value,
 * which notices a dead link in about as long as the trial's peer idle
 * timeout of 6 s.
 */
const MQTT_KEEPALIVE_S = 5;

async function main(argv: string[]): Promise<number> {
  const o = parseRunArgs(argv);
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const overrides = readOverrides(o.profile, overridesOf(o.sets));
  // A bad profile is reported before anything is made or started.
  await loadProfile(o.profile, overrides);
  const network = networkFromEnv();
  if (network === undefined && isRoot() && !o.loopback) {
    return runInNamespaces(fileURLToPath(import.meta.url), argv);
  }
  onInterrupt();
  overallBound(o.seconds);
  const progress = new ProgressPrinter();
  process.stderr.write(
    `netem: starting a designated router, the relay (${o.profile}) and ` +
      'a site router\n',
  );
  const result = await runTrial({
    profile: o.profile,
    overrides,
    seconds: o.seconds,
    ratePerSecond: o.rate,
    keepDir: o.keep,
    onProgress: (p) => progress.update(p),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(network === undefined ? {} : { network }),
  }).finally(() => progress.finish());
  const baseline = o.noBaseline
    ? ({ ran: false, reason: '--no-baseline' } as const)
    : await baselineOf(result, o.keep);
  process.stdout.write(
    o.json
      ? `${JSON.stringify(jsonReport(result, baseline))}\n`
      : `${textReport(result, baseline)}\n`,
  );
  return passed(result) ? 0 : 1;
}

/**
 * The same workload over a Mosquitto bridge, with the settings the trial
 * ran with; a baseline that cannot be set up is reported, not fatal.
 */
async function baselineOf(
  r: TrialResult,
  keep: boolean,
): Promise<BaselineOutcome> {
  process.stderr.write(
    'netem: the same workload over a Mosquitto bridge (baseline)\n',
  );
  const progress = new ProgressPrinter();
  try {
    const result: BaselineResult = await runBaseline({
      profile: r.profile,
      seed: r.seed,
      seconds: r.seconds,
      ratePerSecond: r.ratePerSecond,
      payloadBytes: r.payloadBytes,
      leadInMs: r.leadInMs,
      keepAliveS: MQTT_KEEPALIVE_S,
      network: r.network,
      keepDir: keep,
      onProgress: (p) => progress.update(p),
      say: (line) => process.stderr.write(`${line}\n`),
    });
    return { ran: true, result };
  } catch (err) {
    if (!(err instanceof BaselineError)) throw err;
    process.stderr.write(`netem: baseline not run: ${err.message}\n`);
    return { ran: false, reason: err.message };
  } finally {
    progress.finish();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof UsageError || err instanceof TypeError;
    const profileError =
      err instanceof WavemqError && err.code.startsWith('NETEM_PROFILE');
    process.stderr.write(
      `netem: ${errorMessage(err)}\n${usage ? USAGE + '\n' : ''}`,
    );
    process.exitCode = usage || profileError ? 2 : 1;
  },
);
