// A site router whose sends to its designated router fail with EPERM (an
// nftables drop on the output hook: the QUIC library turns that error
// into an uncaught exception) keeps running, keeps accepting publishes,
// and drains them by itself once sends work again.
import t from 'tap';
import { eventually } from '../../harness/processes.ts';
import { PackageMissingError } from '../../netem/errors.ts';
import { ensureNft, refuseSends } from '../../netem/netns.ts';
import { startNamespacedTier } from '../helpers/netns-tier.ts';

/** Why this test cannot run here, or false. */
async function cannotRun(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  try {
    await ensureNft();
    return false;
  } catch (err) {
    if (err instanceof PackageMissingError) return err.message;
    throw err;
  }
}
const batch = (from: number): string[] =>
  Array.from({ length: 20 }, (_, i) => `e${from + i}`);

t.test(
  'send refused: a site whose uplink sends fail with EPERM survives, keeps what it acked, and drains when sends work again',
  { skip: await cannotRun() },
  async (t) => {
    const nt = await startNamespacedTier(t, 78);
    const site = nt.site.proc!;
    const sub = await nt.subscribe('ep/*', 60);
    await nt.uplinkUp();
    t.equal((await nt.publish('ep/x', batch(0))).code, 0, 'before');

    const allow = await refuseSends(nt.topo.site.netns, nt.topo.router.address);
    t.teardown(allow);
    const r1 = await nt.publish('ep/x', batch(20));
    t.equal(r1.code, 0, 'publishes are acked while sends fail');
    const fault = await site.waitForLog(
      (l) =>
        typeof l['msg'] === 'string' && /QUIC library fault/.test(l['msg']),
    );
    t.match(String(fault['name']), /^ErrorQUIC/, 'the library fault was seen');
    await eventually(async () =>
      (await nt.status(nt.site)).namespaces[0]?.link !== 'up'
        ? true
        : undefined,
    );
    const r2 = await nt.publish('ep/x', batch(40));
    t.equal(r2.code, 0, 'and still acked with the link down');
    t.equal(site.proc.exitCode, null, 'the site router is still running');
    t.equal(site.proc.signalCode, null);

    await allow();
    const res = await sub.done;
    t.equal(res.code, 0, `the subscriber got its count (${res.stderr})`);
    t.same(
      sub.payloads(res),
      Array.from({ length: 60 }, (_, i) => `e${i}`),
      'all 60, once, in order',
    );
    const uplink = (await nt.status(nt.site)).namespaces[0];
    t.ok((uplink?.connects ?? 0) >= 2, 'the uplink was made again');
    t.equal(site.proc.exitCode, null, 'the site router never died');
  },
);
