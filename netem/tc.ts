/**
 * The `tc netem` backend: applies one direction of a profile to an
 * interface's egress with the kernel's netem qdisc, and drives the
 * profile's outage, blackhole and flapping schedule by switching the
 * qdisc to 100 % loss and back (`tc qdisc change`). Used where the kernel
 * has netem ({@link netemSupported}); elsewhere the userspace relay
 * (relay.ts) stands in. Rebinding has no tc equivalent: change the
 * address inside a namespace instead (netns.ts).
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import {
  errorMessage,
  silentLogger,
  type Logger,
} from '../src/common/index.ts';
import { isRoot, runCommand, type CommandRunner } from './command.ts';
import { CommandError, NetemUnsupportedError } from './errors.ts';
import type { Direction, Profile } from './profile-types.ts';
import {
  nextStateChangeMs,
  scheduledState,
  type LinkState,
} from './schedule.ts';
import { TimerScheduler, type Scheduler } from './scheduler.ts';
import { qdiscCommand, type TcTarget } from './tc-args.ts';

export { netemArgs, qdiscCommand, type TcTarget } from './tc-args.ts';

/** Kernel build options, when the kernel publishes them. */
const KERNEL_CONFIG_PATH = '/proc/config.gz';

let cachedSupport: Promise<boolean> | undefined;

/** Options of {@link netemSupported}; the defaults probe this machine. */
export interface SupportOptions {
  /** Kernel config to read; default /proc/config.gz. */
  configPath?: string;
  /** Runs the namespace probe; default {@link runCommand}. */
  run?: CommandRunner;
  /** Whether the probe may run (needs root); default: when uid is 0. */
  root?: boolean;
}

/**
 * Whether the kernel has the netem qdisc. Reads the kernel config first
 * (`CONFIG_NET_SCH_NETEM`); when that is missing or says "module" and
 * the process is root, adds netem to the loopback of a throwaway network
 * namespace and deletes the namespace again. Without root and without a
 * decisive config, false. Cached for the process when called without
 * options.
 * @throws CommandError only when the probe namespace cannot be deleted.
 */
export function netemSupported(options?: SupportOptions): Promise<boolean> {
  if (options) return detectNetem(options);
  cachedSupport ??= detectNetem({});
  return cachedSupport;
}

async function detectNetem(o: SupportOptions): Promise<boolean> {
  const fromConfig = await configSaysNetem(o.configPath ?? KERNEL_CONFIG_PATH);
  if (fromConfig !== undefined && fromConfig !== 'module') return fromConfig;
  if (!(o.root ?? isRoot())) return false;
  return probeNetem(o.run ?? runCommand);
}

/** true/false when the config decides; 'module' or undefined otherwise. */
async function configSaysNetem(
  path: string,
): Promise<boolean | 'module' | undefined> {
  let text: string;
  try {
    const raw = await readFile(path);
    text = path.endsWith('.gz')
      ? (await promisify(gunzip)(raw)).toString('utf8')
      : raw.toString('utf8');
  } catch {
    // No published config (common): the probe decides instead.
    return undefined;
  }
  if (/^CONFIG_NET_SCH_NETEM=y$/m.test(text)) return true;
  if (/^CONFIG_NET_SCH_NETEM=m$/m.test(text)) return 'module';
  if (/^# CONFIG_NET_SCH_NETEM is not set$/m.test(text)) return false;
  return undefined;
}

async function probeNetem(run: CommandRunner): Promise<boolean> {
  const ns = `wmq-probe-${randomBytes(3).toString('hex')}`;
  try {
    await run(['ip', 'netns', 'add', ns]);
  } catch {
    // Namespaces unavailable: netem cannot be tried safely either.
    return false;
  }
  try {
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await run(
      ['tc', '-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem'].concat([
        'delay',
        '0ms',
      ]),
    );
    return true;
  } catch (err) {
    if (err instanceof CommandError) return false;
    throw err;
  } finally {
    await run(['ip', 'netns', 'del', ns]);
  }
}

/** Options of {@link applyProfile}. */
export interface ApplyOptions {
  /** Namespace of the interface; default the current one. */
  netns?: string;
  /** Which of the profile's directions this interface's egress carries;
   *  default `up` (apply `down` to the interface facing the site). */
  direction?: Direction;
  run?: CommandRunner;
  scheduler?: Scheduler;
  logger?: Logger;
  signal?: AbortSignal;
}

/** A profile applied with tc; the schedule runs until {@link stop}. */
export interface TcProfile {
  /** Scheduled state now. */
  state(): LinkState;
  /** Schedule kinds the tc backend cannot apply (`rebind`). */
  readonly unsupported: string[];
  /** Stops the schedule and removes the qdisc. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Puts netem with one direction of `profile` on `iface` (replacing any
 * root qdisc) and starts its schedule.
 * @throws NetemUnsupportedError when the kernel has no netem.
 * @throws CommandError when tc fails otherwise.
 */
export async function applyProfile(
  iface: string,
  profile: Profile,
  options: ApplyOptions = {},
): Promise<TcProfile> {
  const target: TcTarget = { iface, ...optionalNetns(options.netns) };
  const run = options.run ?? runCommand;
  const direction = options.direction ?? 'up';
  const x = profile[direction];
  await runTc(run, qdiscCommand('replace', target, x), iface);
  const driver = new ScheduleDriver(profile, direction, {
    apply: (down) =>
      runTc(run, qdiscCommand('change', target, x, { linkDown: down }), iface),
    clear: () => clearProfile(iface, { ...optionalNetns(options.netns), run }),
    scheduler: options.scheduler ?? new TimerScheduler(),
    logger: (options.logger ?? silentLogger()).child({
      component: 'netem-tc',
      iface,
      direction,
    }),
  });
  options.signal?.addEventListener('abort', () => void driver.stop(), {
    once: true,
  });
  return driver;
}

/**
 * Removes the root qdisc of `iface`; no error when there is none.
 * @throws CommandError when tc fails for another reason.
 */
export async function clearProfile(
  iface: string,
  options: { netns?: string; run?: CommandRunner } = {},
): Promise<void> {
  const argv = qdiscCommand('del', { iface, ...optionalNetns(options.netns) });
  try {
    await (options.run ?? runCommand)(argv);
  } catch (err) {
    // Deleting the default qdisc is refused with these words: nothing to do.
    const text = err instanceof CommandError ? err.data.stderr : '';
    if (/handle of zero|No such file|Invalid handle/i.test(text)) return;
    throw err;
  }
}

function optionalNetns(netns: string | undefined): { netns?: string } {
  return netns === undefined ? {} : { netns };
}

async function runTc(run: CommandRunner, argv: string[], iface: string) {
  try {
    await run(argv);
  } catch (err) {
    if (
      err instanceof CommandError &&
      /qdisc kind is unknown/i.test(err.data.stderr)
    ) {
      throw new NetemUnsupportedError(
        'the kernel has no netem qdisc',
        { iface },
        { cause: err },
      );
    }
    throw err;
  }
}

interface DriverHooks {
  apply: (down: boolean) => Promise<void>;
  clear: () => Promise<void>;
  scheduler: Scheduler;
  logger: Logger;
}

/** Follows the schedule, switching the qdisc when the state changes. */
class ScheduleDriver implements TcProfile {
  readonly unsupported: string[];
  private readonly startedAtMs: number;
  private down = false;
  private cancel: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  /** Changes run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly profile: Profile,
    private readonly direction: Direction,
    private readonly hooks: DriverHooks,
  ) {
    this.startedAtMs = hooks.scheduler.now();
    this.unsupported = profile.schedule.some((s) => s.kind === 'rebind')
      ? ['rebind']
      : [];
    if (this.unsupported.length > 0) {
      hooks.logger.warn({ kinds: this.unsupported }, 'schedule not applied');
    }
    this.tick();
  }

  state(): LinkState {
    const elapsed = this.hooks.scheduler.now() - this.startedAtMs;
    return scheduledState(this.profile.schedule, this.direction, elapsed);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.cancel?.();
      await this.chain;
      await this.hooks.clear();
    })();
    return this.stopping;
  }

  private tick(): void {
    if (this.stopping) return;
    const down = this.state() !== 'up';
    if (down !== this.down) {
      this.down = down;
      this.chain = this.chain
        .then(() => this.hooks.apply(down))
        .catch((err: unknown) => {
          this.hooks.logger.error(
            { err: errorMessage(err), down },
            'tc failed',
          );
        });
    }
    const elapsed = this.hooks.scheduler.now() - this.startedAtMs;
    const next = nextStateChangeMs(this.profile.schedule, elapsed);
    if (next === undefined) return;
    this.cancel = this.hooks.scheduler.at(this.startedAtMs + next, () =>
      this.tick(),
    );
  }
}
