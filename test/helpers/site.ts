/**
 * A site for end-to-end tests: a temporary folder holding the seed config
 * moved onto it (designated router pointed at an unused loopback port), a
 * namespace, and helpers to start the router and make agents.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { relocatedSeedConfig } from '../../harness/seed-config.ts';
import {
  freePort,
  startRouter,
  type RouterProcess,
} from '../../harness/processes.ts';
import {
  makeAgent,
  makeNamespace,
  type GrantOptions,
  type TestAgent,
  type TestNamespace,
} from '../../harness/grants.ts';
import { Agent, type AgentOptions } from '../../src/agent/index.ts';

/** Everything a test needs to run one site router. */
export interface Site {
  dir: string;
  configFile: string;
  agentPort: number;
  drPort: number;
  ns: TestNamespace;
  router: RouterProcess | undefined;
  start(): Promise<RouterProcess>;
  agent(name: string, o?: GrantOptions): Promise<TestAgent>;
  /** Connects agent `a`; `o` adds or overrides options. */
  connect(a: TestAgent, o?: Partial<AgentOptions>): Promise<Agent>;
  /** CLI arguments that act as agent `a`. */
  cliArgs(a: TestAgent): string[];
}

/** Makes a site; `edit` may change the config text (e.g. limits). */
export async function makeSite(
  t: Test,
  edit: (toml: string) => string = (s) => s,
): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), 'wavemq-e2e-'));
  const [agentPort, drPort, peerPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const ns = await makeNamespace(dir);
  const configFile = join(dir, 'wavemq.toml');
  await writeFile(
    configFile,
    edit(
      relocatedSeedConfig(dir, drPort, agentPort, peerPort, {
        metricsAddr: '',
      }),
    ),
  );
  const agents: Agent[] = [];
  const site: Site = {
    dir,
    configFile,
    agentPort,
    drPort,
    ns,
    router: undefined,
    async start() {
      site.router = await startRouter(configFile);
      return site.router;
    },
    agent: (name, o) => makeAgent(dir, name, ns, o),
    async connect(a, o = {}) {
      const agent = await Agent.connect({
        router: { host: '127.0.0.1', port: agentPort },
        entity: a.entity,
        namespace: ns.id,
        proof: a.proof,
        ...o,
      });
      agents.push(agent);
      return agent;
    },
    cliArgs: (a) => [
      '--router',
      `127.0.0.1:${agentPort}`,
      '--entity',
      a.file,
      '--proof',
      a.proofFile,
      '--namespace',
      ns.file,
    ],
  };
  t.teardown(async () => {
    for (const a of agents) await a.close().catch(() => undefined);
    await site.router?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  return site;
}
