/**
 * A designated router and one site router in two network namespaces
 * joined by a veth pair (root only): the trunk crosses real interfaces
 * with real addresses, which tests can change or firewall. Agents run as
 * CLI processes in each router's namespace, on its loopback.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Test } from 'tap';
import {
  eventually,
  runCli,
  spawnCli,
  startRouter,
  type CliResult,
} from '../../harness/processes.ts';
import type { TestAgent } from '../../harness/grants.ts';
import { createTopology, type Topology } from '../../netem/netns.ts';
import { makeTier, type TierRouter } from './tier.ts';

/** What `status --json` reports, as far as these tests read it. */
export interface RouterStatus {
  subscriptions: number;
  namespaces: { link: string; backlog: number; connects: number }[];
}

/** A CLI subscriber process. */
export interface Subscriber {
  done: Promise<CliResult>;
  /** The payloads it printed, in order. */
  payloads(r: CliResult): string[];
}

/** The two routers in their namespaces, and ways to drive them. */
export interface NamespacedTier {
  topo: Topology;
  dr: TierRouter;
  site: TierRouter;
  /** `status --json` of a router, asked from inside its namespace. */
  status(r: TierRouter): Promise<RouterStatus>;
  /** Publishes `payloads` on `uri` at the site, one per line. */
  publish(uri: string, payloads: string[]): Promise<CliResult>;
  /**
   * A durable subscriber at the designated router that ends after
   * `count` messages; resolves once the router has its subscription.
   */
  subscribe(pattern: string, count: number): Promise<Subscriber>;
  /** Waits until the site's uplink reports `link` up. */
  uplinkUp(timeoutMs?: number): Promise<void>;
}

/**
 * Builds the namespaces on 10.211.`subnet`.0/24, starts the designated
 * router in the router namespace and the site in the site namespace;
 * the site reaches the designated router at its veth address.
 */
export async function startNamespacedTier(
  t: Test,
  subnet: number,
): Promise<NamespacedTier> {
  const topo = await createTopology({ subnet });
  t.teardown(() => topo.destroy());
  const tier = await makeTier(t, 1);
  const site = tier.sites[0]!;
  const dr = tier.dr;
  const drAddr = `${topo.router.address}:${dr.peerPort}`;
  for (const r of [dr, site]) {
    const text = await readFile(r.configFile, 'utf8');
    await writeFile(
      r.configFile,
      text.replaceAll(`127.0.0.1:${dr.peerPort}`, drAddr),
    );
  }
  const netnsOf = (r: TierRouter) =>
    r === dr ? topo.router.netns : topo.site.netns;
  for (const r of [dr, site]) {
    r.proc = await startRouter(r.configFile, {}, { netns: netnsOf(r) });
  }
  const a = await tier.agent('a');
  const status = async (r: TierRouter): Promise<RouterStatus> => {
    const res = await runCli(
      ['status', '--json', '--router', `127.0.0.1:${r.agentPort}`],
      { netns: netnsOf(r) },
    );
    return JSON.parse(res.stdout) as RouterStatus;
  };
  const nt: NamespacedTier = {
    topo,
    dr,
    site,
    status,
    publish: (uri, payloads) =>
      runCli(['pub', uri, '--lines', ...agentArgs(site, a, tier.ns.file)], {
        input: payloads.map((p) => `${p}\n`).join(''),
        netns: topo.site.netns,
      }),
    subscribe: (pattern, count) =>
      subscribeAtDr(nt, a, tier.ns.file, {
        pattern,
        count,
      }),
    uplinkUp: async (timeoutMs = 30_000) => {
      await eventually(
        async () =>
          (await status(site)).namespaces[0]?.link === 'up' ? true : undefined,
        timeoutMs,
      );
    },
  };
  return nt;
}

function agentArgs(r: TierRouter, a: TestAgent, nsFile: string): string[] {
  return [
    '--router',
    `127.0.0.1:${r.agentPort}`,
    '--entity',
    a.file,
    '--proof',
    a.proofFile,
    '--namespace',
    nsFile,
  ];
}

async function subscribeAtDr(
  nt: NamespacedTier,
  a: TestAgent,
  nsFile: string,
  o: { pattern: string; count: number },
): Promise<Subscriber> {
  const sub = spawnCli(
    [
      'sub',
      o.pattern,
      '--id',
      'dr',
      '--count',
      String(o.count),
      '--json',
    ].concat(agentArgs(nt.dr, a, nsFile)),
    { netns: nt.topo.router.netns },
  );
  await eventually(async () =>
    (await nt.status(nt.dr)).subscriptions >= 1 ? true : undefined,
  );
  return {
    done: sub.done,
    payloads: (r) =>
      r.stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { payload: string }).payload),
  };
}
