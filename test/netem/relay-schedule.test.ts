import t, { type Test } from 'tap';
import { createSocket } from 'node:dgram';
import { ImpairmentRelay } from '../../netem/relay.ts';
import { parseProfile } from '../../netem/profile.ts';
import { ManualScheduler } from '../../netem/scheduler.ts';
import { sendNumbered, udpClient, udpEcho, waitFor } from './udp.ts';

/**
 * A relay on a manual clock in front of an echo server: outage at
 * 1000-2000 ms both ways, blackhole of the down direction at 3000-4000.
 */
async function windowed(t: Test) {
  const echo = await udpEcho();
  const client = await udpClient();
  const scheduler = new ManualScheduler(0);
  const profile = parseProfile('windows', {
    schedule: [
      { kind: 'outage', startMs: 1000, durationMs: 1000 },
      { kind: 'blackhole', startMs: 3000, durationMs: 1000, direction: 'down' },
    ],
  });
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: echo.port },
    profile,
    scheduler,
    seed: 1,
  });
  const { port } = await relay.start();
  t.teardown(async () => {
    await relay.stop();
    await echo.close();
    await client.close();
  });
  let sent = 0;
  /** Sends 10 datagrams at scheduler time `atMs`; waits till decided. */
  const burstAt = async (atMs: number) => {
    scheduler.advanceTo(atMs);
    await sendNumbered(client, port, 10, { firstSeq: sent });
    sent += 10;
    await waitFor(() => relay.stats().up.packetsIn === sent, 'relay got all');
    const want = () => echo.arrivals.length === relay.stats().up.forwarded;
    await waitFor(want, 'echo got all forwarded');
    const s = relay.stats();
    await waitFor(
      () => relay.stats().down.packetsIn === s.up.forwarded,
      'replies reached the relay',
    );
  };
  return { relay, echo, client, burstAt };
}

t.test(
  'relay: an outage drops everything inside its window and nothing outside',
  async (t) => {
    const { relay, echo, client, burstAt } = await windowed(t);
    await burstAt(999);
    t.equal(relay.state('up'), 'up', 'up just before the window');
    await burstAt(1000);
    t.equal(relay.state('up'), 'outage', 'down from its first ms');
    await burstAt(1999);
    await burstAt(2000);
    t.equal(relay.state('down'), 'up', 'up again at its end');
    const s = relay.stats();
    t.equal(s.up.droppedOutage, 20, 'the two bursts inside dropped');
    t.equal(echo.arrivals.length, 20, 'the bursts outside passed');
    t.same(
      echo.arrivals.map((a) => a.seq).sort((a, b) => a - b),
      [...Array(10).keys(), ...[...Array(10).keys()].map((i) => 30 + i)],
      'exactly the datagrams sent outside the window',
    );
    await waitFor(() => client.arrivals.length === 20, 'replies arrived');
    t.equal(s.up.droppedLoss + s.up.droppedBlackhole, 0, 'no other drops');
  },
);

t.test(
  'relay: a one-way blackhole drops replies only, inside its window',
  async (t) => {
    const { relay, echo, client, burstAt } = await windowed(t);
    await burstAt(2999);
    await burstAt(3000);
    t.same(relay.stats().state, { up: 'up', down: 'blackhole' });
    await burstAt(3999);
    await burstAt(4000);
    const s = relay.stats();
    t.equal(echo.arrivals.length, 40, 'the up direction was untouched');
    t.equal(s.down.droppedBlackhole, 20, 'replies inside the window dropped');
    await waitFor(() => client.arrivals.length === 20, 'replies outside came');
    const seqs = client.arrivals.map((a) => a.seq).sort((a, b) => a - b);
    t.equal(seqs[9], 9, 'the first burst came back');
    t.equal(seqs[10], 30, 'then nothing until the window ended');
  },
);

t.test('relay: setDown takes the link down until cleared', async (t) => {
  const { relay, echo, burstAt } = await windowed(t);
  relay.setDown(true);
  await burstAt(100);
  t.equal(relay.state('up'), 'manual-down', 'state says why');
  relay.setDown(false);
  await burstAt(200);
  t.equal(relay.stats().up.droppedOutage, 10);
  t.equal(echo.arrivals.length, 10);
});

t.test('relay: stop() releases every socket and is idempotent', async (t) => {
  const echo = await udpEcho();
  const client = await udpClient();
  t.teardown(async () => {
    await echo.close();
    await client.close();
  });
  const ac = new AbortController();
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: echo.port },
    profile: parseProfile('plain', {}),
  });
  const { port } = await relay.start({ signal: ac.signal });
  t.same(await relay.start(), { host: '127.0.0.1', port }, 'start again');
  await sendNumbered(client, port, 3);
  await waitFor(() => client.arrivals.length === 3, 'echoed');
  const [flow] = relay.clients();
  t.ok(flow && flow.sourcePort > 0, 'an upstream socket was open');
  ac.abort();
  await relay.stop();
  await relay.stop();
  for (const p of [port, flow!.sourcePort]) {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(p, '127.0.0.1', resolve);
    });
    await new Promise<void>((r) => s.close(() => r()));
    t.pass(`port ${p} is free again`);
  }
  await t.rejects(relay.start(), { code: 'NETEM_RELAY_STATE' });
  t.throws(() => relay.address, { code: 'NETEM_RELAY_STATE' });
});

t.test('relay: stop() during start leaves nothing open', async (t) => {
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: 'localhost', port: 9 },
    profile: parseProfile('plain', {}),
  });
  const starting = relay.start();
  await relay.stop();
  await t.rejects(starting, { code: 'NETEM_RELAY_STATE' });
  t.same(relay.stats().clients, 0);
  const aborted = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: 9 },
    profile: parseProfile('plain', {}),
  });
  await t.rejects(aborted.start({ signal: AbortSignal.abort() }), {
    name: 'AbortError',
  });
});
