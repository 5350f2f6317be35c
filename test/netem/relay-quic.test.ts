import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../src/common/index.ts';
import {
  createQuicTransport,
  createTlsIdentity,
  type Connection,
  type FrameStream,
} from '../../src/transport/index.ts';
import { ImpairmentRelay } from '../../netem/relay.ts';
import { loadProfile, type ProfileOverrides } from '../../netem/profile.ts';
import { sleep, waitFor } from './udp.ts';

const transport = () =>
  createQuicTransport({
    logger: silentLogger(),
    keepAliveMs: 300,
    idleTimeoutMs: 10_000,
    streamFinGraceMs: 300,
  });

/** A QUIC echo server behind a relay with the named shipped profile. */
async function echoBehindRelay(
  t: Test,
  profileName: string,
  overrides: ProfileOverrides = {},
) {
  const identity = await createTlsIdentity(randomBytes(32));
  const serverConns: Connection[] = [];
  const listener = await transport().listen({
    host: '127.0.0.1',
    port: 0,
    identity,
    onConnection: (c) => {
      serverConns.push(c);
      c.onStream((s) => void echoFrames(s));
    },
  });
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: listener.port },
    profile: await loadProfile(profileName, overrides),
    seed: 3,
  });
  const { port } = await relay.start();
  const connectStartMs = performance.now();
  const client = await transport().connect({
    host: '127.0.0.1',
    port,
    expectedServerKey: identity.publicKey,
    timeoutMs: 15_000,
  });
  t.comment(
    `connected in ${(performance.now() - connectStartMs).toFixed(0)} ms`,
  );
  t.teardown(async () => {
    await client.close();
    await relay.stop();
    await listener.stop();
  });
  return { relay, client, serverConns };
}

async function echoFrames(s: FrameStream): Promise<void> {
  for await (const f of s.frames()) await s.send({ echo: f });
}

/** A stream whose `echoes(n, tag)` sends n frames and checks each reply. */
function echoer(t: Test, stream: FrameStream) {
  const frames = stream.frames()[Symbol.asyncIterator]();
  return async (n: number, tag: string) => {
    let ok = 0;
    for (let i = 0; i < n; i++) {
      await stream.send(`${tag}-${i}`);
      const next = await frames.next();
      if (isEcho(next.value, `${tag}-${i}`)) ok++;
    }
    t.equal(ok, n, `${n} echoes ${tag}`);
  };
}

function isEcho(value: unknown, sent: string): boolean {
  return (value as { echo?: unknown } | undefined)?.echo === sent;
}

t.test(
  'relay + QUIC: an echo keeps working across a NAT rebinding',
  async (t) => {
    // The scheduled rebinding comes well after the connect and the first
    // echoes, even on a loaded machine.
    const { relay, client, serverConns } = await echoBehindRelay(t, 'rebind', {
      rebindStartMs: 2000,
      rebindEveryMs: 60_000,
    });
    const stream = await client.openStream();
    const echoes = echoer(t, stream);
    await echoes(3, 'before');
    const server = serverConns[0]!;
    const firstPort = server.remote.port;
    t.equal(relay.stats().rebinds, 0, 'port read before the rebinding');
    await waitFor(() => relay.stats().rebinds === 1, 'scheduled rebind', 6000);
    await echoes(3, 'after');
    t.equal(serverConns.length, 1, 'still the one connection');
    t.not(server.remote.port, firstPort, 'the server followed the new port');
    t.equal(
      server.remote.port,
      relay.clients()[0]?.sourcePort,
      'the port the relay sends from now',
    );
    await stream.close();
  },
);

t.test(
  'relay + QUIC: one connection follows repeated NAT rebindings',
  async (t) => {
    const { relay, client, serverConns } = await echoBehindRelay(t, 'plain');
    const stream = await client.openStream();
    const frames = stream.frames()[Symbol.asyncIterator]();
    const echoed = async (tag: string) => {
      await stream.send(tag);
      const next = await Promise.race([frames.next(), sleep(1500)]);
      return isEcho(next?.value, tag);
    };
    t.ok(await echoed('before'), 'echo before any rebinding');
    // quiche's default path table follows one rebinding; the transport
    // raises it, so every one of these must be followed.
    const ports = new Set<number>();
    let followed = 0;
    for (let i = 1; i <= 6; i++) {
      await relay.rebind();
      if (!(await echoed(`after-${i}`))) break;
      followed = i;
      ports.add(serverConns[0]!.remote.port);
    }
    t.equal(followed, 6, 'an echo after each of 6 rebindings');
    t.equal(serverConns.length, 1, 'still the one connection');
    t.equal(ports.size, 6, 'from a new source port each time');
    await stream.close();
  },
);

t.test(
  'relay + QUIC: an echo completes through the lossy profile',
  async (t) => {
    const { relay, client } = await echoBehindRelay(t, 'lossy');
    const stream = await client.openStream();
    const echoStartMs = performance.now();
    await echoer(t, stream)(15, 'lossy');
    t.comment(
      `15 echoes in ${(performance.now() - echoStartMs).toFixed(0)} ms`,
    );
    const { up, down } = relay.stats();
    t.comment(
      `lost up ${up.droppedLoss}/${up.packetsIn}, ` +
        `down ${down.droppedLoss}/${down.packetsIn}, ` +
        `reordered ${up.reordered + down.reordered}`,
    );
    t.ok(up.droppedLoss + down.droppedLoss > 0, 'the relay did drop packets');
    await stream.close();
  },
);
