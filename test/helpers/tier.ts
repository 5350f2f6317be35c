/**
 * Two tiers for end-to-end tests: one designated router (DR) holding a
 * route proof for a test namespace, and site routers whose seed configs
 * point their uplink at it. All on loopback, each in its own folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { Agent } from '../../src/agent/index.ts';
import { writeTierFiles, type RouterFiles } from '../../netem/topology.ts';
import { startRouter, type RouterProcess } from '../../harness/processes.ts';
import { linkUp } from './messages.ts';
import {
  makeAgent,
  type TestAgent,
  type TestNamespace,
} from '../../harness/grants.ts';

/** One router of a tier: its folder, config, ports and process. */
export interface TierRouter {
  name: string;
  dir: string;
  configFile: string;
  agentPort: number;
  peerPort: number;
  proc: RouterProcess | undefined;
  start(): Promise<RouterProcess>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  connect(a: TestAgent): Promise<Agent>;
}

/** A designated router and its sites, sharing one namespace. */
export interface Tier {
  root: string;
  ns: TestNamespace;
  dr: TierRouter;
  sites: TierRouter[];
  agent(name: string): Promise<TestAgent>;
}

function router(
  name: string,
  dir: string,
  configFile: string,
  agentPort: number,
  peerPort: number,
  ns: TestNamespace,
  agents: Agent[],
): TierRouter {
  const r: TierRouter = {
    name,
    dir,
    configFile,
    agentPort,
    peerPort,
    proc: undefined,
    async start() {
      r.proc = await startRouter(configFile);
      return r.proc;
    },
    async kill(signal = 'SIGKILL') {
      await r.proc?.kill(signal);
      r.proc = undefined;
    },
    async connect(a) {
      const agent = await Agent.connect({
        router: { host: '127.0.0.1', port: agentPort },
        entity: a.entity,
        namespace: ns.id,
        proof: a.proof,
      });
      agents.push(agent);
      return agent;
    },
  };
  return r;
}

/**
 * Short router-link timings, so tests notice a killed peer in seconds
 * (the defaults are for satellite links).
 */
const FAST_PEER_TIMERS = { keepAliveS: 0.5, idleTimeoutS: 3 };

/** Builds a tier with `siteCount` sites; nothing is started yet. */
export async function makeTier(
  t: Test,
  siteCount: number,
  o: { drProofResource?: string } = {},
): Promise<Tier> {
  const root = await mkdtemp(join(tmpdir(), 'wavemq-tier-'));
  const files = await writeTierFiles(root, {
    siteCount,
    peerTimers: FAST_PEER_TIMERS,
    ...(o.drProofResource === undefined
      ? {}
      : { drProofResource: o.drProofResource }),
  });
  const { ns } = files;
  const agents: Agent[] = [];
  const make = (f: RouterFiles) =>
    router(f.name, f.dir, f.configFile, f.agentPort, f.peerPort, ns, agents);
  const dr = make(files.dr);
  const sites = files.sites.map(make);
  t.teardown(async () => {
    for (const a of agents) await a.close().catch(() => undefined);
    for (const r of [dr, ...sites]) await r.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });
  return { root, ns, dr, sites, agent: (name) => makeAgent(root, name, ns) };
}

/**
 * A tier with the designated router and every site started, an agent
 * `a` connected at each site, and every uplink up.
 */
export async function startTier(
  t: Test,
  siteCount: number,
): Promise<{ tier: Tier; a: TestAgent; atSites: Agent[] }> {
  const tier = await makeTier(t, siteCount);
  await tier.dr.start();
  for (const s of tier.sites) await s.start();
  const a = await tier.agent('a');
  const atSites: Agent[] = [];
  for (const s of tier.sites) atSites.push(await s.connect(a));
  for (const at of atSites) await linkUp(at);
  return { tier, a, atSites };
}
