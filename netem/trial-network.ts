/**
 * Where a trial's two sides run. On loopback (the default without root)
 * everything shares the caller's network namespace. With root, the
 * runner makes two network namespaces joined by a veth pair, runs itself
 * again inside the site's (so the site router, the publisher and the
 * relay share it, as they would at a site), and starts the designated
 * router (or the cloud broker) in the other one: the trunk then crosses
 * a real interface between two network stacks.
 */
import { spawn } from 'node:child_process';
import { errorMessage } from '../src/common/index.ts';
import { addLink, createTopology } from './netns.ts';
import { netemSupported } from './tc.ts';

/**
 * A second veth pair that carries only the trunk, made where the kernel
 * has netem so that `tc netem` impairs the trunk and nothing else.
 */
export interface TrunkPath {
  siteIface: string;
  siteHost: string;
  routerIface: string;
  routerHost: string;
}

/** The two namespaces of a trial and their veth addresses. */
export interface TrialNetwork {
  siteNetns: string;
  siteHost: string;
  routerNetns: string;
  routerHost: string;
  /** The trunk's own path, when there is one. */
  trunk?: TrunkPath;
}

/** Environment variable that carries the network into the inner run. */
export const NETWORK_ENV = 'WAVEMQ_NETEM_NETWORK';

/** The network the runner was started in, if it is an inner run. */
export function networkFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): TrialNetwork | undefined {
  const text = env[NETWORK_ENV];
  if (text === undefined || text === '') return undefined;
  const v = JSON.parse(text) as Partial<TrialNetwork>;
  const ok = (s: unknown) => typeof s === 'string' && s !== '';
  if (![v.siteNetns, v.siteHost, v.routerNetns, v.routerHost].every(ok)) {
    throw new Error(`${NETWORK_ENV} is not a trial network: ${text}`);
  }
  return v as TrialNetwork;
}

/** The designated router's side: its namespace, or none on loopback. */
export function routerSide(n: TrialNetwork | undefined): {
  host: string;
  netns: string | undefined;
} {
  return n
    ? { host: n.routerHost, netns: n.routerNetns }
    : { host: '127.0.0.1', netns: undefined };
}

/** One line describing the network, for the report. */
export function networkText(n: TrialNetwork | undefined): string {
  if (!n) return 'loopback (relay on 127.0.0.1, no network namespaces)';
  const trunk = n.trunk
    ? `; the trunk on its own pair (${n.trunk.siteIface} ` +
      `${n.trunk.siteHost} to ${n.trunk.routerIface} ${n.trunk.routerHost})`
    : '';
  return (
    `namespaces ${n.siteNetns} (${n.siteHost}: site router, publisher, ` +
    `relay) and ${n.routerNetns} (${n.routerHost}: designated router or ` +
    `cloud broker, subscriber link) over a veth pair${trunk}`
  );
}

/**
 * Makes the two namespaces, runs `script` with `args` again inside the
 * site's, passing the network in {@link NETWORK_ENV}, and deletes the
 * namespaces when it has exited. Output is the inner run's; SIGINT and
 * SIGTERM are passed on to it. Resolves with its exit code.
 * @throws NotRootError, CommandError when the namespaces cannot be made.
 */
export async function runInNamespaces(
  script: string,
  args: string[],
): Promise<number> {
  const subnet = 100 + Math.floor(Math.random() * 100);
  const topo = await createTopology({ subnet });
  const network: TrialNetwork = {
    siteNetns: topo.site.netns,
    siteHost: topo.site.address,
    routerNetns: topo.router.netns,
    routerHost: topo.router.address,
  };
  try {
    if (await netemSupported()) {
      const t = await addLink(topo, subnet + 50);
      network.trunk = {
        siteIface: t.site.iface,
        siteHost: t.site.address,
        routerIface: t.router.iface,
        routerHost: t.router.address,
      };
    }
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  process.stderr.write(
    `netem: network namespaces ${network.siteNetns} (${network.siteHost})` +
      ` and ${network.routerNetns} (${network.routerHost})\n`,
  );
  try {
    const child = spawn(
      'ip',
      ['netns', 'exec', network.siteNetns, process.execPath].concat(
        process.execArgv,
        [script],
        args,
      ),
      {
        stdio: 'inherit',
        env: { ...process.env, [NETWORK_ENV]: JSON.stringify(network) },
      },
    );
    // This process only waits: the inner run stops its routers and exits
    // on the signal, and then the namespaces go. Handlers that would end
    // this process at once are taken off.
    const pass = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = pass('SIGINT');
    const onTerm = pass('SIGTERM');
    process.removeAllListeners('SIGINT').on('SIGINT', onInt);
    process.removeAllListeners('SIGTERM').on('SIGTERM', onTerm);
    const code = await new Promise<number>((resolve) => {
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 130 : 1)));
      child.once('error', (err) => {
        process.stderr.write(`netem: ${errorMessage(err)}\n`);
        resolve(1);
      });
    });
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    return code;
  } finally {
    await topo.destroy();
  }
}
