/**
 * Two tiers for end-to-end tests: one designated router (DR) holding a
 * route proof for a test namespace, and site routers whose seed configs
 * point their uplink at it. All on loopback, each in its own folder.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import {
  Attestation,
  Entity,
  Proof,
  writeSecretFile,
} from '../../src/wave/index.ts';
import { Agent } from '../../src/agent/index.ts';
import { relocatedSeedConfig } from './seed-config.ts';
import { freePort, startRouter, type RouterProcess } from './processes.ts';
import {
  makeAgent,
  makeNamespace,
  type TestAgent,
  type TestNamespace,
} from './grants.ts';

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
function fastPeerTimers(toml: string): string {
  return toml.replace(
    /(\[PeerConfig\]\n(?:.*\n)*?\s*listenAddr = .*\n)/,
    '$1  keepAliveInterval = 0.5\n  idleTimeout = 3\n',
  );
}

/** The DR's config: the seed file without an uplink, plus route proofs. */
function designatedConfig(
  dir: string,
  agentPort: number,
  peerPort: number,
  proofFile: string,
): string {
  const seed = relocatedSeedConfig(dir, 1, agentPort, peerPort, {
    metricsAddr: '',
  });
  const withoutUplink = seed.replace(/\[\[RoutingConfig\.Router\]\][^[]*/, '');
  return withoutUplink.replace(
    /(RouterEntityFile = .*\n)/,
    `$1  DesignatedNamespaceFiles = [${JSON.stringify(proofFile)}]\n`,
  );
}

/** Builds a tier with `siteCount` sites; nothing is started yet. */
export async function makeTier(
  t: Test,
  siteCount: number,
  o: { drProofResource?: string } = {},
): Promise<Tier> {
  const root = await mkdtemp(join(tmpdir(), 'wavemq-tier-'));
  const ns = await makeNamespace(root);
  const agents: Agent[] = [];
  const drDir = join(root, 'dr');
  await mkdir(drDir);
  const drEntity = Entity.create({ expiryMs: 24 * 3600_000 });
  await writeSecretFile(join(drDir, 'router.ent'), drEntity.encodeSecret());
  const grant = Attestation.create(ns.entity, {
    subject: drEntity.hash,
    namespace: ns.id,
    statements: [
      { permissions: ['route'], resource: o.drProofResource ?? '*' },
    ],
  });
  const proof = Proof.build({
    subject: drEntity.hash,
    namespace: ns.id,
    permissions: ['route'],
    resource: o.drProofResource ?? '*',
    attestations: [grant],
  });
  const proofFile = join(drDir, 'route.proof');
  await writeFile(proofFile, proof.encodeFile());
  const [drAgent, drPeer] = [await freePort(), await freePort()];
  const drConfig = join(drDir, 'wavemq.toml');
  await writeFile(
    drConfig,
    fastPeerTimers(designatedConfig(drDir, drAgent, drPeer, proofFile)),
  );
  const dr = router('dr', drDir, drConfig, drAgent, drPeer, ns, agents);
  const sites: TierRouter[] = [];
  for (let i = 1; i <= siteCount; i++) {
    const dir = join(root, `site${i}`);
    await mkdir(dir);
    const [agentPort, peerPort] = [await freePort(), await freePort()];
    const cfg = join(dir, 'wavemq.toml');
    await writeFile(
      cfg,
      fastPeerTimers(
        relocatedSeedConfig(dir, drPeer, agentPort, peerPort, {
          namespace: ns.id,
          metricsAddr: '',
        }),
      ),
    );
    sites.push(router(`site${i}`, dir, cfg, agentPort, peerPort, ns, agents));
  }
  t.teardown(async () => {
    for (const a of agents) await a.close().catch(() => undefined);
    for (const r of [dr, ...sites]) await r.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });
  return { root, ns, dr, sites, agent: (name) => makeAgent(root, name, ns) };
}
