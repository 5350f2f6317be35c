import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, silentLogger } from '../../src/common/index.ts';
import {
  TICKET_KEY_MAX_AGE_MS,
  TicketKeyFileError,
  createQuicTransport,
  createTlsIdentity,
  loadOrCreateTicketKey,
  type Connection,
  type Listener,
  type TlsIdentity,
} from '../../src/transport/index.ts';
import { firstFrame, withTimeout } from './conformance.ts';

const timers = { keepAliveMs: 200, idleTimeoutMs: 2000 };

/** An echo listener that records whether each accepted link resumed. */
async function echoServer(
  t: Test,
  o: { identity: TlsIdentity; ticketKey?: Uint8Array; port?: number },
): Promise<{ listener: Listener; resumed: boolean[] }> {
  const registry = new Registry();
  const transport = createQuicTransport({
    logger: silentLogger(),
    registry,
    ...timers,
  });
  const resumed: boolean[] = [];
  const listener = await transport.listen({
    host: '127.0.0.1',
    port: o.port ?? 0,
    identity: o.identity,
    ...(o.ticketKey && { ticketKey: o.ticketKey }),
    onConnection: (c) => {
      resumed.push(c.resumed === true);
      c.onStream((s) => {
        void firstFrame(s).then((f) => s.send({ echo: f }));
      });
    },
  });
  t.teardown(() => listener.stop());
  return { listener, resumed };
}

/** Connects, checks one echo, closes; returns whether it resumed. */
async function roundTrip(
  client: ReturnType<typeof createQuicTransport>,
  port: number,
  identity: TlsIdentity,
): Promise<boolean> {
  const conn: Connection = await client.connect({
    host: '127.0.0.1',
    port,
    expectedServerKey: identity.publicKey,
  });
  const s = await conn.openStream();
  await s.send('ping');
  const reply = await firstFrame(s);
  if (JSON.stringify(reply) !== '{"echo":"ping"}') {
    throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  }
  await conn.close('done');
  await withTimeout(conn.closed, 3000, 'close hung');
  return conn.resumed === true;
}

function resumingClient(registry = new Registry()) {
  return createQuicTransport({
    logger: silentLogger(),
    registry,
    resumeSessions: true,
    ...timers,
  });
}

async function handshakes(registry: Registry, resumed: 'yes' | 'no') {
  const m = await registry
    .getSingleMetric('wavemq_transport_handshakes_total')
    ?.get();
  const v = m?.values.find(
    (x) => x.labels['resumed'] === resumed && x.labels['side'] === 'client',
  );
  return v?.value ?? 0;
}

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wavemq-tickets-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

void t.test(
  'session resumption: a reconnect to the same listener resumes on both ends',
  async (t) => {
    const identity = await createTlsIdentity(randomBytes(32));
    const { listener, resumed } = await echoServer(t, {
      identity,
      ticketKey: randomBytes(48),
    });
    const registry = new Registry();
    const client = resumingClient(registry);
    t.equal(await roundTrip(client, listener.port, identity), false);
    t.equal(await roundTrip(client, listener.port, identity), true);
    t.equal(await roundTrip(client, listener.port, identity), true);
    t.same(resumed, [false, true, true]);
    t.equal(await handshakes(registry, 'yes'), 2);
    t.equal(await handshakes(registry, 'no'), 1);
  },
);

void t.test(
  'session resumption: a listener without a ticket key never resumes',
  async (t) => {
    const identity = await createTlsIdentity(randomBytes(32));
    const { listener, resumed } = await echoServer(t, { identity });
    const client = resumingClient();
    t.equal(await roundTrip(client, listener.port, identity), false);
    t.equal(await roundTrip(client, listener.port, identity), false);
    t.same(resumed, [false, false]);
  },
);

void t.test(
  'session resumption: a client without resumeSessions does full handshakes',
  async (t) => {
    const identity = await createTlsIdentity(randomBytes(32));
    const { listener } = await echoServer(t, {
      identity,
      ticketKey: randomBytes(48),
    });
    const client = createQuicTransport({ logger: silentLogger(), ...timers });
    t.equal(await roundTrip(client, listener.port, identity), false);
    t.equal(await roundTrip(client, listener.port, identity), false);
  },
);

void t.test(
  'session resumption: a restarted listener with the same key file resumes',
  async (t) => {
    const file = join(await tempDir(t), 'peer-tickets.key');
    const identity = await createTlsIdentity(randomBytes(32));
    const first = await loadOrCreateTicketKey(file);
    t.equal(first.origin, 'created');
    const a = await echoServer(t, { identity, ticketKey: first.key });
    const client = resumingClient();
    t.equal(await roundTrip(client, a.listener.port, identity), false);
    await a.listener.stop();
    const again = await loadOrCreateTicketKey(file);
    t.equal(again.origin, 'read');
    t.same(again.key, first.key);
    const b = await echoServer(t, {
      identity,
      ticketKey: again.key,
      port: a.listener.port,
    });
    t.equal(await roundTrip(client, b.listener.port, identity), true);
    t.same(b.resumed, [true]);
  },
);

void t.test(
  'session resumption: a listener with another key falls back to a full ' +
    'handshake that succeeds, and the next reconnect resumes again',
  async (t) => {
    const identity = await createTlsIdentity(randomBytes(32));
    const a = await echoServer(t, { identity, ticketKey: randomBytes(48) });
    const client = resumingClient();
    t.equal(await roundTrip(client, a.listener.port, identity), false);
    await a.listener.stop();
    const b = await echoServer(t, {
      identity,
      ticketKey: randomBytes(48),
      port: a.listener.port,
    });
    t.equal(await roundTrip(client, b.listener.port, identity), false);
    t.equal(await roundTrip(client, b.listener.port, identity), true);
    t.same(b.resumed, [false, true]);
  },
);

void t.test(
  'session resumption: a listener whose identity changed under the same ' +
    'key file does not resume, and the client sees the new certificate',
  async (t) => {
    const ticketKey = randomBytes(48);
    const before = await createTlsIdentity(randomBytes(32));
    const after = await createTlsIdentity(randomBytes(32));
    const client = resumingClient();
    // Unpinned, as a site's uplink connects: only the certificate shown
    // tells the client who answered.
    const unpinned = async (port: number) => {
      const conn = await client.connect({ host: '127.0.0.1', port });
      const s = await conn.openStream();
      await s.send('ping');
      // After a reply the server's ticket has arrived too.
      t.same(await firstFrame(s), { echo: 'ping' });
      const seen = { resumed: conn.resumed, key: conn.peerPublicKey };
      await conn.close('done');
      await withTimeout(conn.closed, 3000, 'close hung');
      return seen;
    };
    const a = await echoServer(t, { identity: before, ticketKey });
    await unpinned(a.listener.port);
    const again = await unpinned(a.listener.port);
    t.equal(again.resumed, true, 'the same identity resumes');
    await a.listener.stop();
    const b = await echoServer(t, {
      identity: after,
      ticketKey,
      port: a.listener.port,
    });
    const changed = await unpinned(b.listener.port);
    t.equal(changed.resumed, false, 'a full handshake');
    t.same(changed.key, after.publicKey, 'showing the new identity');
  },
);

void t.test(
  'session resumption: listeners in one process each use their own key',
  async (t) => {
    const identity = await createTlsIdentity(randomBytes(32));
    const a = await echoServer(t, { identity, ticketKey: randomBytes(48) });
    const b = await echoServer(t, { identity, ticketKey: randomBytes(48) });
    const client = resumingClient();
    t.equal(await roundTrip(client, a.listener.port, identity), false);
    t.equal(await roundTrip(client, b.listener.port, identity), false);
    t.equal(await roundTrip(client, a.listener.port, identity), true);
    t.equal(await roundTrip(client, b.listener.port, identity), true);
  },
);

void t.test('session resumption: a ticket key must be 48 bytes', async (t) => {
  const identity = await createTlsIdentity(randomBytes(32));
  const transport = createQuicTransport({ logger: silentLogger() });
  await t.rejects(
    transport.listen({
      host: '127.0.0.1',
      port: 0,
      identity,
      ticketKey: randomBytes(32),
      onConnection: () => undefined,
    }),
    RangeError,
  );
});

void t.test(
  'ticket key file: written with mode 0600 and read back',
  async (t) => {
    const file = join(await tempDir(t), 'sub', 'peer-tickets.key');
    const made = await loadOrCreateTicketKey(file);
    t.equal(made.key.byteLength, 48);
    t.equal((await stat(file)).mode & 0o777, 0o600);
    const read = await loadOrCreateTicketKey(file);
    t.equal(read.origin, 'read');
    t.same(read.key, made.key);
  },
);

void t.test('ticket key file: replaced once older than 7 days', async (t) => {
  const file = join(await tempDir(t), 'peer-tickets.key');
  const made = await loadOrCreateTicketKey(file);
  const clock = new ManualClock(Date.now());
  clock.advance(TICKET_KEY_MAX_AGE_MS - 60_000);
  t.equal((await loadOrCreateTicketKey(file, { clock })).origin, 'read');
  clock.advance(120_000);
  const rotated = await loadOrCreateTicketKey(file, { clock });
  t.equal(rotated.origin, 'rotated');
  t.notSame(rotated.key, made.key);
  t.same((await loadOrCreateTicketKey(file)).key, rotated.key);
});

void t.test(
  'ticket key file: a wrong size or unreadable file is a named error',
  async (t) => {
    const dir = await tempDir(t);
    const short = join(dir, 'short.key');
    await writeFile(short, randomBytes(10));
    const e = await loadOrCreateTicketKey(short).catch((err: unknown) => err);
    t.ok(e instanceof TicketKeyFileError);
    t.equal((e as TicketKeyFileError).code, 'TICKET_KEY_FILE');
    t.equal((e as TicketKeyFileError).data.path, short);
    t.match((e as Error).message, short);
    t.match((e as Error).message, /10 bytes, expected 48/);
    const folder = join(dir, 'folder.key');
    await mkdir(folder);
    await t.rejects(loadOrCreateTicketKey(folder), {
      code: 'TICKET_KEY_FILE',
      data: { path: folder, reason: 'not a regular file' },
    });
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.key');
      await writeFile(locked, randomBytes(48));
      await chmod(locked, 0);
      await t.rejects(loadOrCreateTicketKey(locked), {
        code: 'TICKET_KEY_FILE',
        data: { path: locked },
      });
    }
  },
);
