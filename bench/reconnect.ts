/**
 * How long a router link takes to come up, through the impairment relay
 * with a given profile: a fresh QUIC connection (TLS handshake plus the
 * library's stateless Retry round trip) and a first framed exchange,
 * with a full handshake every time or resuming the previous session.
 * Resumption saves the certificate exchange and its checks, not round
 * trips; native-notes.md records the figures.
 */
import { randomBytes } from 'node:crypto';
import { ImpairmentRelay, loadProfile } from '../netem/index.ts';
import { silentLogger } from '../src/common/logger.ts';
import {
  createQuicTransport,
  createTlsIdentity,
  type TlsIdentity,
} from '../src/transport/index.ts';

/** Figures of one series of reconnects, ms. */
export interface ReconnectTimes {
  connectP50Ms: number;
  connectMaxMs: number;
  echoP50Ms: number;
  /** How many of the measured connects resumed a session. */
  resumed: number;
}

const TIMERS = { keepAliveMs: 1000, idleTimeoutMs: 10_000 };

async function echoListener(identity: TlsIdentity, resume: boolean) {
  const server = createQuicTransport({ logger: silentLogger(), ...TIMERS });
  return server.listen({
    host: '127.0.0.1',
    port: 0,
    identity,
    ...(resume && { ticketKey: randomBytes(48) }),
    onConnection: (conn) =>
      conn.onStream(
        (s) =>
          void (async () => {
            for await (const f of s.frames()) await s.send(f);
          })(),
      ),
  });
}

/**
 * Connect (and first echo) times over `count` fresh connections from one
 * client, each closed before the next. With `resume`, the server has a
 * ticket key, the client keeps sessions, and one unmeasured connect first
 * obtains a session. Every connect pins the server's key, as uplinks do
 * through their handshake checks.
 */
export async function reconnectTimes(
  profileName: string,
  count = 10,
  resume = false,
): Promise<ReconnectTimes> {
  const identity = await createTlsIdentity(randomBytes(32));
  const listener = await echoListener(identity, resume);
  const client = createQuicTransport({
    logger: silentLogger(),
    resumeSessions: resume,
    ...TIMERS,
  });
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: listener.port },
    profile: await loadProfile(profileName),
    seed: 1,
  });
  await relay.start();
  const connects: number[] = [];
  const echoes: number[] = [];
  let resumed = 0;
  try {
    for (let i = resume ? -1 : 0; i < count; i++) {
      const t0 = performance.now();
      const conn = await client.connect({
        ...relay.address,
        expectedServerKey: identity.publicKey,
        timeoutMs: 20_000,
      });
      const t1 = performance.now();
      const s = await conn.openStream();
      await s.send({ ping: i });
      for await (const f of s.frames()) {
        void f;
        break;
      }
      if (i >= 0) {
        connects.push(t1 - t0);
        echoes.push(performance.now() - t0);
        if (conn.resumed) resumed += 1;
      }
      await conn.close('measured');
    }
  } finally {
    await relay.stop();
    await listener.stop();
  }
  const p50 = (xs: number[]): number =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  return {
    connectP50Ms: p50(connects),
    connectMaxMs: Math.max(...connects),
    echoP50Ms: p50(echoes),
    resumed,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.env['BENCH_RECONNECTS'] ?? 10);
  const ms = (x: number): string => x.toFixed(0).padStart(5);
  console.log(
    'profile     handshake  connect p50 / max ms   connect+echo p50 ms',
  );
  for (const profile of ['plain', 'cellular', 'satellite']) {
    for (const resume of [false, true]) {
      const r = await reconnectTimes(profile, count, resume);
      const kind = resume ? `resumed ${r.resumed}/${count}` : 'full';
      console.log(
        `${profile.padEnd(11)} ${kind.padEnd(13)} ` +
          `${ms(r.connectP50Ms)} / ${ms(r.connectMaxMs)}` +
          `          ${ms(r.echoP50Ms)}`,
      );
    }
  }
  process.exit(0);
}
