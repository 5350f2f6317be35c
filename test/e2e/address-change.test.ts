import t from 'tap';
import { eventually } from '../../harness/processes.ts';
import { changeAddress } from '../../netem/netns.ts';
import { startNamespacedTier } from '../helpers/netns-tier.ts';

const isRoot = process.getuid?.() === 0;
const batch = (from: number): string[] =>
  Array.from({ length: 20 }, (_, i) => `m${from + i}`);

t.test(
  'address change: a site whose address changes twice mid-transfer keeps its trunk, nothing lost or repeated',
  { skip: isRoot ? false : 'needs root for network namespaces' },
  async (t) => {
    const nt = await startNamespacedTier(t, 77);
    const sub = await nt.subscribe('mv/*', 60);
    await nt.uplinkUp();
    const { netns, iface } = nt.topo.site;
    t.equal((await nt.publish('mv/x', batch(0))).code, 0, 'first third');
    const addresses = [nt.topo.site.address, '10.211.77.9', '10.211.77.10'];
    for (let i = 1; i < addresses.length; i++) {
      await changeAddress(
        netns,
        iface,
        `${addresses[i - 1]}/24`,
        `${addresses[i]}/24`,
      );
      const r = await nt.publish('mv/x', batch(20 * i));
      t.equal(r.code, 0, `published after address change ${i}`);
    }

    const res = await sub.done;
    t.equal(res.code, 0, `the subscriber got its count (${res.stderr})`);
    t.same(
      sub.payloads(res),
      Array.from({ length: 60 }, (_, i) => `m${i}`),
      'all 60, once, in order',
    );
    await eventually(async () =>
      (await nt.status(nt.site)).namespaces[0]?.backlog === 0
        ? true
        : undefined,
    );
    const uplink = (await nt.status(nt.site)).namespaces[0];
    t.equal(uplink?.link, 'up');
    t.equal(uplink?.connects, 1, 'the first connection carried it all');
  },
);
