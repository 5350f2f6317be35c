/**
 * Runs one trial of the uplink under an impairment profile and reports
 * what was lost, duplicated, reordered and how long the drain took:
 *
 *   npm run netem -- PROFILE [--seconds N] [--rate N] [--seed N] \
 *     [--set KEY=VALUE]... [--json] [--no-baseline] [--keep]
 *
 * PROFILE is a shipped profile name or a JSON file path. `--set` changes
 * the profile (`outageStartMs=5000`, `up.lossPercent=5`). Progress goes
 * to stderr, the report to stdout. Exit 0 when nothing was lost without
 * a queue counting it and nothing was duplicated, 1 otherwise or when
 * the trial could not run, 2 on a usage or profile error, 130 when
 * interrupted.
 */
import { WavemqError, errorMessage } from '../src/common/errors.ts';
import { readOverrides } from './profile.ts';
import { ProgressPrinter } from './progress.ts';
import { USAGE, UsageError, overridesOf, parseRunArgs } from './run-args.ts';
import { abandonTrials, runTrial } from './trial.ts';
import { jsonReport, passed, textReport } from './trial-report.ts';

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
      process.exit(130);
    });
  }
}

/**
 * Time allowed on top of publishing, ms: router starts and the uplink
 * (each bounded at 60 s), the drain wait (120 s) and stopping.
 */
const OVERHEAD_BOUND_MS = 6 * 60_000;

/** Ends the process if the trial overruns every bound it has. */
function overallBound(seconds: number): void {
  const timer = setTimeout(
    () => {
      process.stderr.write('\nnetem: the trial overran its time bound\n');
      abandonTrials();
      process.exit(1);
    },
    seconds * 1000 + OVERHEAD_BOUND_MS,
  );
  timer.unref();
}

async function main(argv: string[]): Promise<number> {
  const o = parseRunArgs(argv);
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  onInterrupt();
  overallBound(o.seconds);
  const overrides = readOverrides(o.profile, overridesOf(o.sets));
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
  }).finally(() => progress.finish());
  process.stdout.write(
    o.json
      ? `${JSON.stringify(jsonReport(result))}\n`
      : `${textReport(result)}\n`,
  );
  return passed(result) ? 0 : 1;
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
