import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { parseProfile } from '../../netem/profile.ts';
import { ManualScheduler } from '../../netem/scheduler.ts';
import {
  TcpPipe,
  meanLossPercent,
  nextRetransmitMs,
  retransmitTimeoutMs,
  zeroTcpCounters,
  type Chunk,
} from '../../netem/tcp-pipe.ts';
import { TcpImpairmentRelay } from '../../netem/tcp-relay.ts';
import { waitFor } from './udp.ts';

/** A TCP echo server on 127.0.0.1. */
async function echoServer(t: Test): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  const a = server.address();
  if (a === null || typeof a !== 'object') throw new Error('no address');
  return { server, port: a.port };
}

async function relayTo(t: Test, port: number, json: unknown) {
  const relay = new TcpImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port },
    profile: parseProfile('test', json),
    seed: 7,
  });
  const address = await relay.start();
  t.teardown(() => relay.stop());
  return { relay, port: address.port };
}

/** A client socket with everything it received collected. */
async function client(port: number) {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const state = { closed: false, error: undefined as string | undefined };
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', (err) => (state.error = err.message));
  socket.on('close', () => (state.closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received = () => Buffer.concat(chunks);
  return { socket, received, state };
}

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test(
  'tcp relay: bytes arrive whole and in order through loss and jitter',
  async (t) => {
    const echo = await echoServer(t);
    const { relay, port } = await relayTo(t, echo.port, {
      both: { delayMs: 5, jitterMs: 4, lossPercent: 10 },
    });
    const c = await client(port);
    const sent = Buffer.alloc(300_000);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 31 + 7) & 0xff;
    for (let i = 0; i < sent.length; i += 10_000) {
      c.socket.write(sent.subarray(i, i + 10_000));
    }
    await waitFor(() => c.received().length >= sent.length, 'echo complete');
    t.equal(c.received().length, sent.length, 'no byte more');
    t.equal(digest(c.received()), digest(sent), 'same bytes, same order');
    const s = relay.stats();
    t.ok(s.up.segmentsLost > 0, 'the loss model lost segments');
    t.equal(s.up.bytesForwarded, sent.length, 'counted up');
    t.equal(s.down.bytesForwarded, sent.length, 'counted down');
    c.socket.destroy();
  },
);

t.test(
  'tcp relay: a link set down holds bytes and refuses new connections',
  async (t) => {
    const echo = await echoServer(t);
    const { relay, port } = await relayTo(t, echo.port, {});
    const c = await client(port);
    c.socket.write('before');
    await waitFor(() => c.received().toString() === 'before', 'first echo');
    relay.setDown(true);
    c.socket.write('during');
    const refused = connect(port, '127.0.0.1');
    const refusedClosed = new Promise<void>((resolve) => {
      refused.on('error', () => undefined);
      refused.on('close', () => resolve());
    });
    await refusedClosed;
    t.equal(relay.stats().refused, 1, 'the new connection was refused');
    await new Promise((r) => setTimeout(r, 300));
    t.equal(c.received().toString(), 'before', 'nothing crosses while down');
    t.ok(relay.stats().up.chunksStalled >= 1, 'the stalled chunk is counted');
    relay.setDown(false);
    await waitFor(
      () => c.received().toString() === 'beforeduring',
      'held bytes delivered once the link is back',
    );
    t.equal(c.state.closed, false, 'the connection survived');
    c.socket.destroy();
  },
);

t.test(
  'tcp relay: a rebind resets client connections; a new one works',
  async (t) => {
    const echo = await echoServer(t);
    const { relay, port } = await relayTo(t, echo.port, {});
    const c = await client(port);
    c.socket.write('one');
    await waitFor(() => c.received().toString() === 'one', 'first echo');
    t.equal(relay.rebind(), 1, 'one connection reset');
    await waitFor(() => c.state.closed, 'client sees its connection end');
    t.match(c.state.error ?? '', /ECONNRESET/, 'ended by a reset');
    const d = await client(port);
    d.socket.write('two');
    await waitFor(() => d.received().toString() === 'two', 'new connection');
    t.equal(relay.stats().reset, 1, 'reset counted');
    d.socket.destroy();
  },
);

t.test(
  'tcp relay: a client that half-closes still reads the reply',
  async (t) => {
    // A server that answers once the request has ended, as HTTP/1.0 and
    // many request-response protocols do.
    const server = createServer({ allowHalfOpen: true }, (s) => {
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', () => s.end(`reply to ${Buffer.concat(got).toString()}`));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise((r) => server.close(r)));
    const address = server.address();
    if (address === null || typeof address !== 'object') throw new Error('');
    const { port } = await relayTo(t, address.port, {});
    const c = await client(port);
    c.socket.end('hello');
    await waitFor(() => c.state.closed, 'the exchange ends');
    t.equal(c.received().toString(), 'reply to hello');
  },
);

t.test(
  'tcp relay: a flapping link refuses connections while down, and stopping leaves a shared scheduler alone',
  async (t) => {
    const echo = await echoServer(t);
    const scheduler = new ManualScheduler(0);
    const relay = new TcpImpairmentRelay({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: echo.port },
      profile: parseProfile('test', {
        schedule: [
          { kind: 'flapping', startMs: 0, periodMs: 1000, downMs: 500 },
        ],
      }),
      scheduler,
      seed: 7,
    });
    const { port } = await relay.start();
    t.teardown(() => relay.stop());
    const refused = connect(port, '127.0.0.1');
    refused.on('error', () => undefined);
    await new Promise((resolve) => refused.on('close', resolve));
    t.equal(relay.stats().refused, 1, 'refused during the down time');
    scheduler.advanceTo(600);
    const c = await client(port);
    c.socket.write('up');
    // Time moves only when told: each check moves it on a little.
    await waitFor(() => {
      scheduler.advanceBy(1);
      return c.received().toString() === 'up';
    }, 'echo when up');
    t.equal(relay.stats().accepted, 1);
    let fired = false;
    scheduler.at(5_000, () => (fired = true));
    c.socket.destroy();
    await relay.stop();
    scheduler.advanceTo(5_000);
    t.ok(fired, "another user's timer still runs after stop");
  },
);

/** A pipe on a manual clock recording when each chunk arrives. */
function manualPipe(json: unknown, rtoMs = 300) {
  const profile = parseProfile('test', json);
  const scheduler = new ManualScheduler(0);
  const arrivals: { atMs: number; chunk: Chunk }[] = [];
  let up = true;
  let randomIndex = 0;
  const draws = [0.5];
  const pipe = new TcpPipe({
    impairment: profile.up,
    rtoMs,
    scheduler,
    random: () => draws[randomIndex++ % draws.length]!,
    isUp: () => up,
    counters: zeroTcpCounters(),
    deliver: (chunk) => arrivals.push({ atMs: scheduler.now(), chunk }),
    onPressure: () => undefined,
    pauseBytes: 1 << 20,
  });
  const setUp = (v: boolean) => {
    up = v;
    pipe.linkChanged();
  };
  return { pipe, scheduler, arrivals, draws, setUp };
}

const data = (n: number): Chunk => ({ kind: 'data', data: Buffer.alloc(n) });

t.test('tcp pipe: delay applies and order holds under jitter', async (t) => {
  const p = manualPipe({ up: { delayMs: 100, jitterMs: 50 } });
  p.draws.splice(0, 1, 0.99, 0.0);
  p.pipe.offer(data(10));
  p.scheduler.advanceBy(1);
  p.pipe.offer(data(10));
  p.scheduler.advanceBy(1000);
  t.equal(p.arrivals.length, 2);
  t.ok(p.arrivals[0]!.atMs > 140, 'first chunk took delay plus jitter');
  t.ok(
    p.arrivals[1]!.atMs >= p.arrivals[0]!.atMs,
    'a less delayed chunk does not overtake',
  );
});

t.test('tcp pipe: rate serialises bytes with header overhead', async (t) => {
  const p = manualPipe({ up: { rateBitsPerSecond: 1_000_000 } });
  p.pipe.offer(data(1448 * 10));
  p.scheduler.advanceBy(10_000);
  // (14480 + 10 * 40) bytes * 8 bits at 1 Mbit/s = 119.04 ms.
  t.equal(Math.round(p.arrivals[0]!.atMs * 100) / 100, 119.04);
});

t.test('tcp pipe: a lost segment costs one retransmission', async (t) => {
  const p = manualPipe({ up: { lossPercent: 50 } }, 300);
  p.draws.splice(0, 1, 0.1);
  p.pipe.offer(data(100));
  p.scheduler.advanceBy(10_000);
  t.equal(p.arrivals[0]!.atMs, 300, 'arrives one timeout later');
});

t.test(
  'tcp pipe: bytes held by an outage go at the next backed-off retry',
  async (t) => {
    const p = manualPipe({}, 200);
    p.setUp(false);
    p.pipe.offer(data(10));
    p.scheduler.advanceTo(1000);
    t.equal(p.arrivals.length, 0, 'nothing while down');
    p.setUp(true);
    p.scheduler.advanceBy(10_000);
    // Retries at 200, 600, 1400: the first one after 1000 is 1400.
    t.equal(p.arrivals[0]!.atMs, 1400);
  },
);

t.test('tcp pipe: model helpers', async (t) => {
  t.equal(nextRetransmitMs(0, 0, 200), 0, 'not yet due: now');
  t.equal(nextRetransmitMs(0, 700, 200), 1400, 'doubling backoff');
  t.equal(nextRetransmitMs(0, 1e6, 60_000) % 1, 0, 'finite with a cap');
  const profile = parseProfile('x', {
    up: { delayMs: 100, jitterMs: 50 },
    down: { delayMs: 100, jitterMs: 50 },
  });
  t.equal(retransmitTimeoutMs(profile.up, profile.down), 600);
  const quiet = parseProfile('y', {});
  t.equal(retransmitTimeoutMs(quiet.up, quiet.down), 200, 'Linux minimum');
  const bursty = parseProfile('z', {
    up: {
      lossBurst: {
        goodToBadPercent: 1,
        badToGoodPercent: 9,
        badLossPercent: 100,
      },
    },
  });
  t.equal(meanLossPercent(bursty.up), 10, 'stationary bursty loss');
});
