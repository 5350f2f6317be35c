// The runner's tc path without a kernel netem: two namespaces with the
// trunk on its own veth pair, the trial and the baseline run inside the
// site's namespace, and a stand-in for tc records what would be impaired.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { findMosquitto } from '../../netem/mosquitto.ts';
import { addLink, createTopology } from '../../netem/netns.ts';
import { NETWORK_ENV, type TrialNetwork } from '../../netem/trial-network.ts';
import { REPO } from '../../harness/processes.ts';

const root = process.getuid?.() === 0;

t.test(
  'netem trial: with a trunk path, tc impairs only the trunk pair, and both sides use it',
  {
    skip: !root
      ? 'needs root for network namespaces'
      : findMosquitto() === undefined
        ? 'mosquitto is not installed'
        : false,
  },
  async (t) => {
    const topo = await createTopology({ subnet: 61 });
    t.teardown(() => topo.destroy());
    const trunk = await addLink(topo, 62);
    const network: TrialNetwork = {
      siteNetns: topo.site.netns,
      siteHost: topo.site.address,
      routerNetns: topo.router.netns,
      routerHost: topo.router.address,
      trunk: {
        siteIface: trunk.site.iface,
        siteHost: trunk.site.address,
        routerIface: trunk.router.iface,
        routerHost: trunk.router.address,
      },
    };
    const script = join(REPO, 'test', 'netem', 'fixtures', 'tc-trial.ts');
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        topo.site.netns,
        process.execPath,
        '--import',
        'tsx',
      ].concat([script]),
      {
        cwd: REPO,
        env: { ...process.env, [NETWORK_ENV]: JSON.stringify(network) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) =>
      proc.once('exit', resolve),
    );
    t.equal(code, 0, `fixture exits 0 (${err.slice(-600)})`);
    const r = JSON.parse(out) as {
      trial: Record<string, unknown>;
      baseline: Record<string, unknown>;
      calls: { iface: string; netns: string; direction: string }[];
    };
    t.match(r.trial, {
      published: 40,
      delivered: 40,
      impairment: 'tc netem',
      relay: false,
    });
    t.match(r.baseline, {
      published: 40,
      delivered: 40,
      impairment: 'tc netem',
    });
    const expected = [
      { iface: trunk.site.iface, netns: topo.site.netns, direction: 'up' },
      {
        iface: trunk.router.iface,
        netns: topo.router.netns,
        direction: 'down',
      },
    ];
    t.same(r.calls, [...expected, ...expected], 'trial, then baseline');
  },
);
