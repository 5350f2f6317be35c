import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { makeTier, type TierRouter } from '../helpers/tier.ts';
import {
  eventually,
  runCli,
  spawnCli,
  startRouter,
} from '../../harness/processes.ts';
import { changeAddress, createTopology } from '../../netem/netns.ts';

const isRoot = process.getuid?.() === 0;

t.test(
  'address change: a site whose address changes mid-transfer keeps its trunk, nothing lost or repeated',
  { skip: isRoot ? false : 'needs root for network namespaces' },
  async (t) => {
    const topo = await createTopology({ subnet: 77 });
    t.teardown(() => topo.destroy());
    const tier = await makeTier(t, 1);
    const site = tier.sites[0]!;
    const dr = tier.dr;
    // The designated router listens on its namespace's veth address, and the
    // site reaches it there; agents stay on each namespace's loopback.
    const drAddr = `${topo.router.address}:${dr.peerPort}`;
    for (const r of [dr, site]) {
      const text = await readFile(r.configFile, 'utf8');
      await writeFile(
        r.configFile,
        text.replaceAll(`127.0.0.1:${dr.peerPort}`, drAddr),
      );
    }
    const start = async (r: TierRouter, netns: string): Promise<void> => {
      r.proc = await startRouter(r.configFile, {}, { netns });
    };
    await start(dr, topo.router.netns);
    await start(site, topo.site.netns);
    const a = await tier.agent('a');
    const args = (r: TierRouter): string[] => [
      '--router',
      `127.0.0.1:${r.agentPort}`,
      '--entity',
      a.file,
      '--proof',
      a.proofFile,
      '--namespace',
      tier.ns.file,
    ];
    const status = async (
      r: TierRouter,
      netns: string,
    ): Promise<{
      subscriptions: number;
      namespaces: { link: string; backlog: number }[];
    }> => {
      const res = await runCli(
        ['status', '--json', '--router', `127.0.0.1:${r.agentPort}`],
        { netns },
      );
      return JSON.parse(res.stdout) as {
        subscriptions: number;
        namespaces: { link: string; backlog: number }[];
      };
    };
    const sub = spawnCli(
      ['sub', 'mv/*', '--id', 'dr', '--count', '40', '--json', ...args(dr)],
      { netns: topo.router.netns },
    );
    await eventually(async () =>
      (await status(dr, topo.router.netns)).subscriptions >= 1
        ? true
        : undefined,
    );
    await eventually(
      async () =>
        (await status(site, topo.site.netns)).namespaces[0]?.link === 'up'
          ? true
          : undefined,
      30_000,
    );

    const lines = (from: number): string =>
      Array.from({ length: 20 }, (_, i) => `m${from + i}`).join('\n') + '\n';
    const pub = (from: number) =>
      runCli(['pub', 'mv/x', '--lines', ...args(site)], {
        input: lines(from),
        netns: topo.site.netns,
      });
    t.equal((await pub(0)).code, 0, 'first half published');
    await changeAddress(
      topo.site.netns,
      topo.site.iface,
      `${topo.site.address}/24`,
      '10.211.77.9/24',
    );
    t.equal(
      (await pub(20)).code,
      0,
      'second half published after the address change',
    );

    const res = await sub.done;
    t.equal(res.code, 0, `the subscriber got its count (${res.stderr})`);
    const got = res.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { payload: string }).payload);
    t.same(
      got,
      Array.from({ length: 40 }, (_, i) => `m${i}`),
      'all 40, once, in order',
    );
    await eventually(async () =>
      (await status(site, topo.site.netns)).namespaces[0]?.backlog === 0
        ? true
        : undefined,
    );
  },
);
