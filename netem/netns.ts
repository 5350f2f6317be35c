/**
 * Two network namespaces joined by a veth pair, for tests that need real
 * addresses: a site end and a router end on 10.211.<subnet>.0/24. Every
 * name starts with `wmq-`; addresses are only ever set inside namespaces
 * made here. Root only. Namespaces still alive when the process exits are
 * deleted then, so a crashed test leaves nothing behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../src/common/index.ts';
import {
  requireRoot,
  runCommand,
  type CommandOutput,
  type CommandRunner,
} from './command.ts';
import { CommandError } from './errors.ts';
import { ensurePackage } from './packages.ts';

/** One end of the topology. */
export interface NamespaceEnd {
  /** Namespace name, `wmq-<tag>-site` or `wmq-<tag>-rtr`. */
  netns: string;
  /** The veth interface inside it. */
  iface: string;
  /** Its IPv4 address, without prefix length. */
  address: string;
}

/** Two namespaces and the veth pair between them. */
export interface Topology {
  site: NamespaceEnd;
  router: NamespaceEnd;
  /** The third octet: the pair shares 10.211.<subnet>.0/24. */
  subnet: number;
  /** Deletes both namespaces (and so the veth pair). Idempotent. */
  destroy(): Promise<void>;
}

/** Options of {@link createTopology}. */
export interface TopologyOptions {
  /** Third octet of 10.211.x.0/24, 0-255; default 0. Namespaces are
   *  isolated, so topologies may share a subnet. */
  subnet?: number;
  /** 1-6 lowercase letters or digits naming this topology; default
   *  random. */
  tag?: string;
  run?: CommandRunner;
}

/** Only this /16 is ever configured, and only in our namespaces. */
const PRIVATE_PREFIX = '10.211.';
const PREFIX_LENGTH = 24;

/** Namespaces this process created and has not deleted yet. */
const live = new Set<string>();
let exitHookInstalled = false;

/**
 * Creates the two namespaces, the veth pair, addresses `.1` (site) and
 * `.2` (router), and brings the links up. On any failure, deletes what
 * it made and rethrows.
 * @throws NotRootError when not root.
 * @throws RangeError for a bad subnet or tag.
 * @throws CommandError when `ip` fails.
 */
export async function createTopology(
  options: TopologyOptions = {},
): Promise<Topology> {
  requireRoot('createTopology');
  const subnet = options.subnet ?? 0;
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) {
    throw new RangeError('subnet must be an integer from 0 to 255');
  }
  const tag = options.tag ?? randomBytes(3).toString('hex');
  if (!/^[a-z0-9]{1,6}$/.test(tag)) {
    throw new RangeError('tag must be 1-6 lowercase letters or digits');
  }
  const run = options.run ?? runCommand;
  const net = `${PRIVATE_PREFIX}${subnet}`;
  const site = end(`wmq-${tag}-site`, `wmq-${tag}-s`, `${net}.1`);
  const router = end(`wmq-${tag}-rtr`, `wmq-${tag}-r`, `${net}.2`);
  const topology: Topology = {
    site,
    router,
    subnet,
    destroy: () => deleteNamespaces([site.netns, router.netns], run),
  };
  try {
    await build(site, router, run);
  } catch (err) {
    await topology.destroy();
    throw err;
  }
  return topology;
}

function end(netns: string, iface: string, address: string): NamespaceEnd {
  return { netns, iface, address };
}

async function build(
  site: NamespaceEnd,
  router: NamespaceEnd,
  run: CommandRunner,
): Promise<void> {
  installExitHook();
  for (const ns of [site.netns, router.netns]) {
    live.add(ns);
    await run(['ip', 'netns', 'add', ns]);
  }
  await addPair(site, router, run);
  for (const e of [site, router]) {
    await run(['ip', '-n', e.netns, 'link', 'set', 'lo', 'up']);
  }
}

/**
 * Adds a second veth pair between the two namespaces of `topology`, on
 * 10.211.<subnet>.0/24 (`.1` site, `.2` router), named
 * `wmq-<tag>-ts` / `-tr`: a separate path, for instance one to impair
 * with `tc netem` while the first stays clean. Deleted with the
 * namespaces.
 * @throws NotRootError; RangeError for a bad subnet; CommandError.
 */
export async function addLink(
  topology: Topology,
  subnet: number,
  options: { run?: CommandRunner } = {},
): Promise<{ site: NamespaceEnd; router: NamespaceEnd }> {
  requireRoot('addLink');
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) {
    throw new RangeError('subnet must be an integer from 0 to 255');
  }
  const tag = topology.site.netns.slice('wmq-'.length, -'-site'.length);
  const net = `${PRIVATE_PREFIX}${subnet}`;
  const site = end(topology.site.netns, `wmq-${tag}-ts`, `${net}.1`);
  const router = end(topology.router.netns, `wmq-${tag}-tr`, `${net}.2`);
  await addPair(site, router, options.run ?? runCommand);
  return { site, router };
}

/** A veth pair between two existing namespaces, addressed and up. */
async function addPair(
  site: NamespaceEnd,
  router: NamespaceEnd,
  run: CommandRunner,
): Promise<void> {
  await run(
    [
      'ip',
      'link',
      'add',
      site.iface,
      'netns',
      site.netns,
      'type',
      'veth',
    ].concat(['peer', 'name', router.iface, 'netns', router.netns]),
  );
  for (const e of [site, router]) {
    const cidr = `${e.address}/${PREFIX_LENGTH}`;
    await run(['ip', '-n', e.netns, 'addr', 'add', cidr, 'dev', e.iface]);
    await run(['ip', '-n', e.netns, 'link', 'set', e.iface, 'up']);
  }
}

async function deleteNamespaces(
  names: string[],
  run: CommandRunner,
): Promise<void> {
  for (const ns of names) {
    if (!live.has(ns)) continue;
    try {
      await run(['ip', 'netns', 'del', ns]);
    } catch (err) {
      // Never created (a failed build) or already gone: nothing to undo.
      if (!isMissing(err)) throw err;
    }
    live.delete(ns);
  }
}

function isMissing(err: unknown): boolean {
  return (
    err instanceof CommandError &&
    /No such file|does not exist|Cannot find/i.test(err.data.stderr)
  );
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const ns of live) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch (err) {
        // The process is ending; say what is left behind and go on.
        process.stderr.write(
          `cannot delete namespace ${ns}: ${errorMessage(err)}\n`,
        );
      }
    }
  });
}

/**
 * Runs `argv` inside `netns` (`ip netns exec`) and waits for it.
 * @throws NotRootError, CommandError.
 */
export function execInNamespace(
  netns: string,
  argv: readonly string[],
  options: { run?: CommandRunner; signal?: AbortSignal } = {},
): Promise<CommandOutput> {
  requireRoot('execInNamespace');
  const run = options.run ?? runCommand;
  const opts = options.signal ? { signal: options.signal } : {};
  return run(['ip', 'netns', 'exec', netns, ...argv], opts);
}

/**
 * Starts `argv` inside `netns` without waiting; the caller owns the
 * child and must end it.
 * @throws NotRootError.
 */
export function spawnInNamespace(
  netns: string,
  argv: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  requireRoot('spawnInNamespace');
  return spawn('ip', ['netns', 'exec', netns, ...argv], options);
}

/**
 * Replaces address `fromCidr` of `iface` in `netns` with `toCidr` (e.g.
 * `10.211.0.1/24` to `10.211.0.5/24`): a real address change, as when a
 * cellular modem gets a new lease.
 * @throws NotRootError; RangeError unless `netns` is one of ours and the
 *   new address is in 10.211.0.0/16; CommandError when `ip` fails.
 */
export async function changeAddress(
  netns: string,
  iface: string,
  fromCidr: string,
  toCidr: string,
  options: { run?: CommandRunner } = {},
): Promise<void> {
  requireRoot('changeAddress');
  if (!netns.startsWith('wmq-')) {
    throw new RangeError(`namespace ${netns} was not made by wavemq tests`);
  }
  if (!toCidr.startsWith(PRIVATE_PREFIX)) {
    throw new RangeError(`address ${toCidr} is outside 10.211.0.0/16`);
  }
  const run = options.run ?? runCommand;
  await run(['ip', '-n', netns, 'addr', 'del', fromCidr, 'dev', iface]);
  await run(['ip', '-n', netns, 'addr', 'add', toCidr, 'dev', iface]);
}

/**
 * The path of `nft`, installing Debian's `nftables` when it is missing
 * and we are root.
 * @throws PackageMissingError when it cannot be had.
 */
export function ensureNft(): Promise<string> {
  return ensurePackage({
    binary: 'nft',
    pkg: 'nftables',
    fallbacks: ['/usr/sbin/nft'],
  });
}

/** nftables table that {@link refuseSends} adds; one per namespace. */
const REFUSE_TABLE = 'wmq_refuse';

/**
 * Makes every packet sent from `netns` to `address` fail at the sender
 * with EPERM, as an nftables drop rule on the output hook does (a host
 * firewall, or one a management agent pushes). Installs Debian's
 * `nftables` when nft is missing. Returns the undo, which removes the
 * rule; deleting the namespace removes it too.
 * @throws NotRootError; RangeError unless `netns` is one of ours;
 *   PackageMissingError without nft; CommandError when nft fails.
 */
export async function refuseSends(
  netns: string,
  address: string,
  options: { run?: CommandRunner } = {},
): Promise<() => Promise<void>> {
  requireRoot('refuseSends');
  if (!netns.startsWith('wmq-')) {
    throw new RangeError(`namespace ${netns} was not made by wavemq tests`);
  }
  const run = options.run ?? runCommand;
  const nft = await ensureNft();
  const inNs = (args: string[]) =>
    run(['ip', 'netns', 'exec', netns, nft, ...args]);
  await inNs(['add', 'table', 'inet', REFUSE_TABLE]);
  await inNs(
    ['add', 'chain', 'inet', REFUSE_TABLE, 'output'].concat([
      '{',
      'type',
      'filter',
      'hook',
      'output',
      'priority',
      '0',
      ';',
      '}',
    ]),
  );
  await inNs(
    ['add', 'rule', 'inet', REFUSE_TABLE, 'output'].concat([
      'ip',
      'daddr',
      address,
      'drop',
    ]),
  );
  let undone = false;
  return async () => {
    if (undone) return;
    undone = true;
    await inNs(['delete', 'table', 'inet', REFUSE_TABLE]);
  };
}
