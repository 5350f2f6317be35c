/**
 * Options of the QUIC transport, their defaults and the library config
 * built from them. The timing defaults are chosen for cellular and
 * satellite links; native-notes.md gives the reasoning in full.
 */
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import type {
  QUICConfig,
  QUICServerCrypto,
  ClientCryptoOps,
} from '@matrixai/quic';
import type { Logger } from '../common/index.ts';

/** ALPN protocol id of wavemq links. */
export const ALPN = 'wavemq/1';

/** Options of {@link createQuicTransport}. */
export interface QuicTransportOptions {
  logger: Logger;
  /**
   * Interval of keep-alive PINGs in ms; default 10 000. Must be below
   * `idleTimeoutMs`. Cellular NAT mappings often expire after about 30 s
   * without traffic; a ping every 10 s keeps them alive with margin even
   * when one or two pings are lost.
   */
  keepAliveMs?: number;
  /**
   * A silent peer is declared dead after this many ms; default 45 000.
   * Long enough to ride out several lost keep-alives at 2 s RTT, short
   * enough that a dead trunk is replaced within a minute. QUIC uses the
   * smaller of both ends' values.
   */
  idleTimeoutMs?: number;
  /**
   * Bidirectional streams each side lets the other open at once; default
   * 256. We open at most a few fewer than this, never more.
   */
  maxStreams?: number;
  /** Handshake deadline of connect() in ms unless given; default 15 000. */
  connectTimeoutMs?: number;
  /** Wait for a closed stream's release before resetting it; 30 000 ms. */
  streamLingerMs?: number;
  /** Wait for FIN after the peer stopped reading; default 5 000 ms. */
  streamFinGraceMs?: number;
  /**
   * Largest UDP payload sent and accepted, bytes; default the library's
   * (1350, safe on any path). The library's cost is per packet, so links
   * that never leave the host (loopback, MTU 64 KiB) gain several times
   * their throughput from larger packets; see {@link LOOPBACK_UDP_PAYLOAD_BYTES}.
   */
  maxUdpPayloadBytes?: number;
  /**
   * Keep each server's latest TLS session in memory and offer it on the
   * next connect to that server (same host, port and pinned key), so the
   * handshake resumes; default false. Saves the certificate exchange, not
   * a round trip (native-notes.md). Servers resume only when listening
   * with a `ticketKey`; a refused session costs a full handshake.
   */
  resumeSessions?: boolean;
  /** Where metrics go; default a private registry. */
  registry?: Registry;
}

/** UDP payload size for links that stay on the host. */
export const LOOPBACK_UDP_PAYLOAD_BYTES = 16_384;

/** True for addresses that never leave the host. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Options with every default filled in. */
export type ResolvedQuicOptions = Required<
  Omit<QuicTransportOptions, 'registry' | 'maxUdpPayloadBytes'>
> & { registry: Registry | undefined; maxUdpPayloadBytes: number | undefined };

/**
 * Fills defaults and checks ranges.
 * @throws RangeError naming the option that is out of range.
 */
export function resolveQuicOptions(
  o: QuicTransportOptions,
): ResolvedQuicOptions {
  const r: ResolvedQuicOptions = {
    logger: o.logger,
    keepAliveMs: o.keepAliveMs ?? 10_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 45_000,
    maxStreams: o.maxStreams ?? 256,
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
    streamLingerMs: o.streamLingerMs ?? 30_000,
    streamFinGraceMs: o.streamFinGraceMs ?? 5_000,
    resumeSessions: o.resumeSessions ?? false,
    registry: o.registry,
    maxUdpPayloadBytes: o.maxUdpPayloadBytes,
  };
  for (const key of [
    'keepAliveMs',
    'idleTimeoutMs',
    'maxStreams',
    'connectTimeoutMs',
    'streamLingerMs',
    'streamFinGraceMs',
  ] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 1) {
      throw new RangeError(`${key} must be a positive integer`);
    }
  }
  // The library refuses a keep-alive interval at or above the idle timeout.
  if (r.keepAliveMs >= r.idleTimeoutMs) {
    throw new RangeError('keepAliveMs must be below idleTimeoutMs');
  }
  return r;
}

/** Library config shared by both ends. */
export function baseQuicConfig(o: ResolvedQuicOptions): Partial<QUICConfig> {
  return {
    applicationProtos: [ALPN],
    maxIdleTimeout: o.idleTimeoutMs,
    keepAliveIntervalTime: o.keepAliveMs,
    initialMaxStreamsBidi: o.maxStreams,
    // We never use unidirectional streams; refusing them keeps a peer
    // from holding state we would not read.
    initialMaxStreamsUni: 0,
    ...(o.maxUdpPayloadBytes === undefined
      ? {}
      : {
          maxSendUdpPayloadSize: o.maxUdpPayloadBytes,
          maxRecvUdpPayloadSize: o.maxUdpPayloadBytes,
        }),
  };
}

/** Random bytes for client connection ids. */
export const clientCryptoOps: ClientCryptoOps = {
  randomBytes: (data: ArrayBuffer): Promise<void> => {
    randomFillSync(new Uint8Array(data));
    return Promise.resolve();
  },
};

function hmac(key: ArrayBuffer, data: ArrayBuffer): Buffer {
  return createHmac('sha256', Buffer.from(key))
    .update(Buffer.from(data))
    .digest();
}

/**
 * The server's retry-token crypto: HMAC-SHA256 under a random key made
 * per listener, so tokens from a previous run are simply refused.
 */
export function serverCrypto(): QUICServerCrypto {
  const key = randomFillSync(new Uint8Array(32));
  return {
    key: key.buffer,
    ops: {
      sign: (k, data) => {
        const mac = hmac(k, data);
        const copy = new Uint8Array(mac).buffer;
        return Promise.resolve(copy);
      },
      verify: (k, data, sig) => {
        const mac = hmac(k, data);
        const given = Buffer.from(sig);
        const ok = given.length === mac.length && timingSafeEqual(mac, given);
        return Promise.resolve(ok);
      },
    },
  };
}
