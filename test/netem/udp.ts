/**
 * UDP endpoints for the relay tests, all on 127.0.0.1: a sink that
 * records what arrives, an echo server, and a client that numbers and
 * timestamps its datagrams.
 */
import { createSocket, type Socket } from 'node:dgram';

/** A datagram as received: its number, send and arrival times, source. */
export interface Arrival {
  seq: number;
  sentMs: number;
  atMs: number;
  bytes: number;
  fromPort: number;
  fromAddress: string;
}

/** A bound UDP socket and what it received. */
export interface Endpoint {
  socket: Socket;
  port: number;
  arrivals: Arrival[];
  close(): Promise<void>;
}

/** Header of a test datagram: u32 sequence number, f64 send time. */
const HEADER_BYTES = 12;

/** A numbered, timestamped datagram of `bytes` bytes (at least 12). */
export function datagram(seq: number, bytes = 64): Buffer {
  const b = Buffer.alloc(Math.max(HEADER_BYTES, bytes));
  b.writeUInt32BE(seq, 0);
  b.writeDoubleBE(performance.now(), 4);
  return b;
}

async function bound(onData?: (s: Socket, d: Buffer, a: Arrival) => void) {
  const socket = createSocket('udp4');
  const arrivals: Arrival[] = [];
  socket.on('message', (data, rinfo) => {
    const a: Arrival = {
      seq: data.length >= HEADER_BYTES ? data.readUInt32BE(0) : -1,
      sentMs: data.length >= HEADER_BYTES ? data.readDoubleBE(4) : NaN,
      atMs: performance.now(),
      bytes: data.length,
      fromPort: rinfo.port,
      fromAddress: rinfo.address,
    };
    arrivals.push(a);
    onData?.(socket, data, a);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const endpoint: Endpoint = {
    socket,
    port: socket.address().port,
    arrivals,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
  return endpoint;
}

/** Records every datagram that arrives. */
export function udpSink(): Promise<Endpoint> {
  return bound();
}

/** Sends every datagram back to where it came from (and records it). */
export function udpEcho(): Promise<Endpoint> {
  return bound((socket, data, a) =>
    socket.send(data, a.fromPort, a.fromAddress),
  );
}

/** A client socket; replies land in `arrivals`. */
export function udpClient(): Promise<Endpoint> {
  return bound();
}

/**
 * Sends datagrams numbered 0..count-1 to `port`, `burst` at a time with a
 * pause of `pauseMs` between bursts, so the kernel's receive buffers
 * never overflow (that loss would be blamed on the relay).
 */
export async function sendNumbered(
  from: Endpoint,
  port: number,
  count: number,
  o: {
    bytes?: number;
    burst?: number;
    pauseMs?: number;
    firstSeq?: number;
  } = {},
): Promise<void> {
  const burst = o.burst ?? 20;
  for (let i = 0; i < count; i++) {
    from.socket.send(
      datagram((o.firstSeq ?? 0) + i, o.bytes),
      port,
      '127.0.0.1',
    );
    if ((i + 1) % burst === 0) await sleep(o.pauseMs ?? 1);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `done` every 5 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  done: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

/** The p-th percentile (0..100) of `values` by nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, i)] ?? NaN;
}
