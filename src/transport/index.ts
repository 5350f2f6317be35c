/**
 * transport/: links between agents and routers. QUIC in production, an
 * in-memory pair for tests, both behind the same interface.
 */
export type {
  Connection,
  ConnectOptions,
  FrameStream,
  ListenOptions,
  Listener,
  TlsIdentity,
  Transport,
} from './types.ts';
export * from './errors.ts';
export { createTlsIdentity, ed25519KeyOfCert } from './tls.ts';
export { createQuicTransport, QuicTransport } from './quic-transport.ts';
export {
  ALPN,
  LOOPBACK_UDP_PAYLOAD_BYTES,
  isLoopbackHost,
  type QuicTransportOptions,
} from './quic-options.ts';
export { TICKET_KEY_BYTES, MAX_STORED_SESSIONS } from './session-resumption.ts';
export { MAX_PEER_PATHS } from './native-hooks.ts';
export {
  TICKET_KEY_MAX_AGE_MS,
  loadOrCreateTicketKey,
  type TicketKeyFile,
} from './ticket-key.ts';
export { createTransportMetrics, type TransportMetrics } from './metrics.ts';
export {
  createMemoryTransport,
  MemoryTransport,
  type MemoryTransportOptions,
} from './memory-transport.ts';
