/**
 * How long a router link takes to come up, through the impairment relay
 * with a given profile: a fresh QUIC connection (full TLS handshake plus
 * the library's stateless Retry round trip) and a first framed exchange.
 * Resumption would save the certificate exchange but not the round trips;
 * these figures are what every reconnect costs today.
 */
import { randomBytes } from 'node:crypto';
import { ImpairmentRelay, loadProfile } from '../netem/index.ts';
import { silentLogger } from '../src/common/logger.ts';
import {
  createQuicTransport,
  createTlsIdentity,
} from '../src/transport/index.ts';

/** Connect (and first echo) times, ms, over `count` fresh connections. */
export async function reconnectTimes(
  profileName: string,
  count = 10,
): Promise<{ connectP50Ms: number; connectMaxMs: number; echoP50Ms: number }> {
  const logger = silentLogger();
  const server = createQuicTransport({
    logger,
    keepAliveMs: 1000,
    idleTimeoutMs: 10_000,
  });
  const client = createQuicTransport({
    logger,
    keepAliveMs: 1000,
    idleTimeoutMs: 10_000,
  });
  const listener = await server.listen({
    host: '127.0.0.1',
    port: 0,
    identity: await createTlsIdentity(randomBytes(32)),
    onConnection: (conn) =>
      conn.onStream(
        (s) =>
          void (async () => {
            for await (const f of s.frames()) await s.send(f);
          })(),
      ),
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
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const conn = await client.connect({
        ...relay.address,
        timeoutMs: 20_000,
      });
      const t1 = performance.now();
      const s = await conn.openStream();
      await s.send({ ping: i });
      for await (const f of s.frames()) {
        void f;
        break;
      }
      connects.push(t1 - t0);
      echoes.push(performance.now() - t0);
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
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const profile of ['plain', 'cellular', 'satellite']) {
    const r = await reconnectTimes(profile, 10);
    console.log(
      `${profile.padEnd(10)} connect p50 ${r.connectP50Ms.toFixed(0)} ms, ` +
        `max ${r.connectMaxMs.toFixed(0)} ms; connect + first echo p50 ` +
        `${r.echoP50Ms.toFixed(0)} ms`,
    );
  }
  process.exit(0);
}
