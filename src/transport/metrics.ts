import { Counter, Gauge, type Registry } from 'prom-client';

/** The transport's metrics, all named `wavemq_transport_*`. */
export interface TransportMetrics {
  /** Connections established; `side` is `client` or `server`. */
  connectionsOpened: Counter<'side'>;
  /** Connections closed, for any reason. */
  connectionsClosed: Counter<'side'>;
  /** Connections currently open. */
  connectionsOpen: Gauge<'side'>;
  /** Connect attempts that failed; `reason` is a short fixed word. */
  connectFailures: Counter<'reason'>;
  /** Streams opened; `initiator` is `local` or `peer`. */
  streamsOpened: Counter<'initiator'>;
  /** Streams closed, for any reason. */
  streamsClosed: Counter;
  /** Peer-opened streams reset because no handler took them in time. */
  streamsRefused: Counter;
  /** Frames decoded from streams. */
  framesIn: Counter;
  /** Frames written to streams. */
  framesOut: Counter;
  /** Stream payload bytes received (length prefixes included). */
  bytesIn: Counter;
  /** Stream payload bytes written (length prefixes included). */
  bytesOut: Counter;
  /** Streams ended by bad input; `kind` is `too_large` or `malformed`. */
  decodeErrors: Counter<'kind'>;
  /**
   * Failures inside the QUIC library caught by the process guard;
   * `attributed` is `yes` (its connection was closed), `no`, or
   * `shutdown_race` (a harmless "not running" while something stopped).
   */
  libraryFaults: Counter<'attributed'>;
  /**
   * Datagrams the QUIC library failed on with an error of no connection
   * (malformed packets), dropped instead of ending the process.
   */
  badDatagrams: Counter;
  /**
   * TLS handshakes completed; `side` is `client` or `server`, `resumed`
   * is `yes` when an earlier session was resumed, else `no`.
   */
  handshakes: Counter<'side' | 'resumed'>;
}

/** Metrics already declared, per registry, so transports can share one. */
const declared = new WeakMap<Registry, TransportMetrics>();

/**
 * Declares the transport metrics on `registry`, or returns those already
 * declared there: transports given one registry (a router's agent and
 * peer ports) count into the same metrics.
 */
export function createTransportMetrics(registry: Registry): TransportMetrics {
  const existing = declared.get(registry);
  if (existing) return existing;
  const metrics = declareTransportMetrics(registry);
  declared.set(registry, metrics);
  return metrics;
}

function declareTransportMetrics(registry: Registry): TransportMetrics {
  const registers = [registry];
  const counter = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
  ): Counter<L> =>
    new Counter({
      name: `wavemq_transport_${name}`,
      help,
      labelNames,
      registers,
    });
  return {
    connectionsOpened: counter(
      'connections_opened_total',
      'Connections established',
      ['side'],
    ),
    connectionsClosed: counter(
      'connections_closed_total',
      'Connections closed',
      ['side'],
    ),
    connectionsOpen: new Gauge({
      name: 'wavemq_transport_connections_open',
      help: 'Connections currently open',
      labelNames: ['side'],
      registers,
    }),
    connectFailures: counter(
      'connect_failures_total',
      'Connect attempts that failed',
      ['reason'],
    ),
    streamsOpened: counter('streams_opened_total', 'Streams opened', [
      'initiator',
    ]),
    streamsClosed: counter('streams_closed_total', 'Streams closed'),
    streamsRefused: counter(
      'streams_refused_total',
      'Peer-opened streams reset because no handler took them',
    ),
    framesIn: counter('frames_in_total', 'Frames received'),
    framesOut: counter('frames_out_total', 'Frames sent'),
    bytesIn: counter('bytes_in_total', 'Stream bytes received'),
    bytesOut: counter('bytes_out_total', 'Stream bytes sent'),
    decodeErrors: counter(
      'decode_errors_total',
      'Streams ended by bad frames',
      ['kind'],
    ),
    libraryFaults: counter(
      'library_faults_total',
      'QUIC library failures caught by the process guard',
      ['attributed'],
    ),
    badDatagrams: counter(
      'bad_datagrams_total',
      'Datagrams dropped because the QUIC library failed on them',
    ),
    handshakes: counter('handshakes_total', 'TLS handshakes completed', [
      'side',
      'resumed',
    ]),
  };
}
