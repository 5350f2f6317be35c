/**
 * Measures the relay on this machine: how many datagrams per second it
 * forwards with no impairment (the relay in its own process, an echo and
 * a load generator in this one), and how closely it reproduces the
 * cellular profile's loss, delay and rate. Prints one JSON object.
 *
 *   node --import tsx netem/relay-bench.ts [--seconds 3]
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadProfile } from './profile.ts';
import { ImpairmentRelay } from './relay.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string' } } });
const SECONDS = Number(values.seconds ?? 3);
const CLI = fileURLToPath(new URL('./relay-cli.ts', import.meta.url));

async function bind(onMessage: (s: Socket, m: Buffer, port: number) => void) {
  const s = createSocket('udp4');
  s.on('message', (m, r) => onMessage(s, m, r.port));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

const echo = await bind((s, m, port) => s.send(m, port, '127.0.0.1'));
const echoPort = echo.address().port;

/** Round trips per second with `window` datagrams in flight to `port`. */
async function closedLoop(port: number, bytes: number, window = 64) {
  let done = 0;
  let stop = false;
  const rtts: number[] = [];
  const client = await bind((s, m) => {
    done++;
    if (rtts.length < 100_000) rtts.push(performance.now() - m.readDoubleBE(0));
    if (!stop) send(s);
  });
  const send = (s: Socket) => {
    const b = Buffer.alloc(bytes);
    b.writeDoubleBE(performance.now(), 0);
    s.send(b, port, '127.0.0.1');
  };
  for (let i = 0; i < window; i++) send(client);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  client.close();
  rtts.sort((a, b) => a - b);
  const p = (q: number) => rtts[Math.floor(q * (rtts.length - 1))] ?? NaN;
  return {
    roundTripsPerSecond: Math.round(done / SECONDS),
    rttMs: { p50: +p(0.5).toFixed(3), p99: +p(0.99).toFixed(3) },
  };
}

async function relayProcessThroughput(bytes: number) {
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    CLI,
    '--listen',
    '127.0.0.1:0',
    '--upstream',
    `127.0.0.1:${echoPort}`,
    '--profile',
    'plain',
    '--log-level',
    'silent',
    '--interval-ms',
    '3600000',
  ]);
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(/:(\d+) ->/.exec(line.toString())?.[1]);
  const r = await closedLoop(port, bytes);
  child.kill('SIGTERM');
  await once(child, 'exit');
  return { ...r, relayedPacketsPerSecond: r.roundTripsPerSecond * 2 };
}

/**
 * Cellular up direction: loss, delay percentiles and rate, with
 * `perSecond` datagrams of 1000 B on the wire offered for SECONDS.
 */
async function cellularAccuracy(perSecond: number) {
  const arrivals: { sentMs: number; atMs: number }[] = [];
  const sink = await bind((_s, m) =>
    arrivals.push({ sentMs: m.readDoubleBE(0), atMs: performance.now() }),
  );
  const relay = new ImpairmentRelay({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: sink.address().port },
    profile: await loadProfile('cellular'),
    seed: 11,
  });
  const { port } = await relay.start();
  const client = await bind(() => undefined);
  // 972 B payload + 28 B of headers: 8 000 bits per datagram.
  const sent = SECONDS * perSecond;
  const burst = Math.max(1, perSecond / 100);
  for (let i = 0; i < sent; i++) {
    const b = Buffer.alloc(972);
    b.writeDoubleBE(performance.now(), 0);
    client.send(b, port, '127.0.0.1');
    if (i % burst === burst - 1) await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 1500));
  const s = relay.stats().up;
  await relay.stop();
  client.close();
  sink.close();
  const lat = arrivals.map((a) => a.atMs - a.sentMs).sort((a, b) => a - b);
  const q = (x: number) =>
    +(lat[Math.floor(x * (lat.length - 1))] ?? NaN).toFixed(1);
  const mid = arrivals.slice(50, -50);
  const spanS = ((mid.at(-1)?.atMs ?? 0) - (mid[0]?.atMs ?? 0)) / 1000;
  return {
    offered: sent,
    lossPercent: +((100 * s.droppedLoss) / s.packetsIn).toFixed(2),
    droppedRateQueue: s.droppedRateQueue,
    latencyMs: { min: q(0), p50: q(0.5), p90: q(0.9), p99: q(0.99) },
    rateBitsPerSecond: Math.round(((mid.length - 1) * 1000 * 8) / spanS),
  };
}

const direct = await closedLoop(echoPort, 100);
const small = await relayProcessThroughput(100);
const large = await relayProcessThroughput(1200);
// 0.8 Mbit/s offered (well below the rate), then 8 Mbit/s (overload).
const cellularLight = await cellularAccuracy(100);
const cellularOverload = await cellularAccuracy(1000);
echo.close();
process.stdout.write(
  JSON.stringify(
    {
      direct,
      relay100B: small,
      relay1200B: large,
      cellularLight,
      cellularOverload,
    },
    null,
    2,
  ) + '\n',
);
