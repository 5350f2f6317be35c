import t, { type Test } from 'tap';
import { ImpairmentRelay } from '../../netem/relay.ts';
import { parseProfile } from '../../netem/profile.ts';
import { sendNumbered, udpClient, udpEcho, waitFor } from './udp.ts';

async function setup(
  t: Test,
  json: unknown,
  extra: { sourceHosts?: string[] } = {},
) {
  const echo = await udpEcho();
  const client = await udpClient();
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: echo.port },
    profile: parseProfile('rebind-test', json),
    seed: 1,
    ...extra,
  });
  const { port } = await relay.start();
  t.teardown(async () => {
    await relay.stop();
    await echo.close();
    await client.close();
  });
  let sent = 0;
  const roundTrip = async (n: number) => {
    await sendNumbered(client, port, n, { firstSeq: sent });
    sent += n;
    await waitFor(() => client.arrivals.length === sent, 'replies arrived');
  };
  return { relay, echo, client, roundTrip };
}

t.test(
  'relay: rebind() changes the source port upstream and replies still arrive',
  async (t) => {
    const { relay, echo, roundTrip } = await setup(t, {});
    await roundTrip(5);
    const before = new Set(echo.arrivals.map((a) => a.fromPort));
    t.equal(before.size, 1, 'one source while nothing changed');
    t.equal(await relay.rebind(), 1, 'one client moved');
    await roundTrip(5);
    const after = new Set(echo.arrivals.slice(5).map((a) => a.fromPort));
    t.equal(after.size, 1, 'one source after the rebind');
    t.not([...after][0], [...before][0], 'and it is a new port');
    t.equal(
      relay.clients()[0]?.sourcePort,
      [...after][0],
      'clients() shows it',
    );
    t.equal(relay.stats().rebinds, 1);
  },
);

t.test('relay: the rebind schedule moves the source on time', async (t) => {
  const { relay, echo, roundTrip } = await setup(t, {
    schedule: [{ kind: 'rebind', everyMs: 150 }],
  });
  const ports = new Set<number>();
  for (let i = 0; i < 8; i++) {
    await roundTrip(2);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const a of echo.arrivals) ports.add(a.fromPort);
  const { rebinds } = relay.stats();
  t.ok(rebinds >= 2, `rebound ${rebinds} times in ~0.5 s`);
  t.ok(ports.size >= 2, `the echo saw ${ports.size} source ports`);
  t.ok(ports.size <= rebinds + 1, 'no more sources than rebinds');
});

t.test('relay: sourceHosts rotates the source address on rebind', async (t) => {
  const { relay, echo, roundTrip } = await setup(
    t,
    {},
    { sourceHosts: ['127.0.0.1', '127.0.0.2'] },
  );
  await roundTrip(2);
  await relay.rebind();
  await roundTrip(2);
  const sources = echo.arrivals.map((a) => a.fromAddress);
  t.same(sources, ['127.0.0.1', '127.0.0.1', '127.0.0.2', '127.0.0.2']);
});

t.test('relay: each client gets its own upstream source', async (t) => {
  const { relay, echo } = await setup(t, {});
  const other = await udpClient();
  t.teardown(() => other.close());
  const { port } = relay.address;
  const first = await udpClient();
  t.teardown(() => first.close());
  await sendNumbered(first, port, 1);
  await sendNumbered(other, port, 1);
  await waitFor(() => echo.arrivals.length === 2, 'both arrived');
  await waitFor(
    () => first.arrivals.length + other.arrivals.length === 2,
    'both replies',
  );
  const [a, b] = echo.arrivals;
  t.not(a?.fromPort, b?.fromPort, 'two distinct sources upstream');
  t.equal(relay.stats().clients, 2);
  t.equal(first.arrivals.length, 1, 'each reply went to its own client');
});

t.test(
  'relay: a source address that cannot bind leaves the client on its old one',
  async (t) => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: bind refuses it.
    const { relay, echo, roundTrip } = await setup(
      t,
      { schedule: [{ kind: 'rebind', everyMs: 100 }] },
      { sourceHosts: ['127.0.0.1', '192.0.2.1'] },
    );
    await roundTrip(2);
    const before = relay.clients()[0]?.sourcePort;
    t.equal(await relay.rebind(), 0, 'nobody moved');
    t.equal(relay.clients()[0]?.sourcePort, before, 'same source as before');
    await roundTrip(2);
    t.equal(echo.arrivals.at(-1)?.fromPort, before, 'traffic still flows');
    await new Promise((r) => setTimeout(r, 250));
    t.ok(relay.stats().rebinds >= 2, 'the schedule goes on');
    await roundTrip(2);
  },
);

t.test(
  'relay: past maxClients, new clients are dropped and counted',
  async (t) => {
    const echo = await udpEcho();
    const clients = await Promise.all([udpClient(), udpClient(), udpClient()]);
    const relay = new ImpairmentRelay({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: echo.port },
      profile: parseProfile('plain', {}),
      maxClients: 2,
    });
    const { port } = await relay.start();
    t.teardown(async () => {
      await relay.stop();
      await echo.close();
      for (const c of clients) await c.close();
    });
    for (const c of clients) await sendNumbered(c, port, 1);
    await waitFor(() => relay.stats().up.packetsIn === 3, 'all arrived');
    t.equal(relay.stats().clients, 2, 'two clients served');
    t.equal(relay.stats().up.droppedOther, 1, 'the third one dropped');
    t.throws(
      () => new ImpairmentRelay({ ...relayOptions(), maxClients: 0 }),
      RangeError,
    );
  },
);

function relayOptions() {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: 9 },
    profile: parseProfile('plain', {}),
  };
}
