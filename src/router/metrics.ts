import { Counter, Gauge, type Registry } from 'prom-client';

/** The router's metrics, registered on one registry per router. */
export interface RouterMetrics {
  published: Counter<'origin'>;
  delivered: Counter;
  rejected: Counter<'code'>;
  badFrames: Counter<'code'>;
  subscriptions: Gauge;
  agents: Gauge;
  persisted: Counter;
  queried: Counter;
  uplinkAttempts: Counter<'ns'>;
  uplinkState: Gauge<'ns'>;
  peerRefusals: Counter<'code'>;
  trunkReceived: Counter;
  trunkDuplicates: Counter;
  trunkSent: Counter<'ns'>;
  trunkAcked: Counter<'ns'>;
  trunkRejected: Counter<'ns'>;
  drainRate: Gauge<'ns'>;
  publisherSessions: Gauge;
  publishDuplicates: Counter;
}

/** Declares and registers the router's metrics on `registry`. */
export function createRouterMetrics(registry: Registry): RouterMetrics {
  const registers = [registry];
  return {
    published: new Counter({
      name: 'wavemq_router_published_messages_total',
      help: 'Messages accepted for routing, by origin (local or peer)',
      labelNames: ['origin'],
      registers,
    }),
    delivered: new Counter({
      name: 'wavemq_router_delivered_messages_total',
      help: 'Messages sent to local subscribers (resends included)',
      registers,
    }),
    rejected: new Counter({
      name: 'wavemq_router_rejected_total',
      help: 'Publishes, subscriptions and queries refused, by error code',
      labelNames: ['code'],
      registers,
    }),
    badFrames: new Counter({
      name: 'wavemq_router_bad_frames_total',
      help: 'Malformed or unexpected frames received, by error code',
      labelNames: ['code'],
      registers,
    }),
    subscriptions: new Gauge({
      name: 'wavemq_router_active_subscriptions',
      help: 'Subscriptions registered (attached or not)',
      registers,
    }),
    agents: new Gauge({
      name: 'wavemq_router_connected_agents',
      help: 'Agent connections open now',
      registers,
    }),
    persisted: new Counter({
      name: 'wavemq_router_persisted_messages_total',
      help: 'Messages kept as the last persisted one for their URI',
      registers,
    }),
    queried: new Counter({
      name: 'wavemq_router_queried_messages_total',
      help: 'Persisted messages returned by queries',
      registers,
    }),
    uplinkAttempts: new Counter({
      name: 'wavemq_router_uplink_connect_attempts_total',
      help: 'Connection attempts to designated routers',
      labelNames: ['ns'],
      registers,
    }),
    uplinkState: new Gauge({
      name: 'wavemq_router_uplink_up',
      help: '1 when the link to the designated router is up, else 0',
      labelNames: ['ns'],
      registers,
    }),
    peerRefusals: new Counter({
      name: 'wavemq_router_peer_refusals_total',
      help: 'Router links refused in the handshake, by error code',
      labelNames: ['code'],
      registers,
    }),
    trunkReceived: new Counter({
      name: 'wavemq_router_trunk_received_messages_total',
      help: 'Trunk messages accepted from site routers',
      registers,
    }),
    trunkDuplicates: new Counter({
      name: 'wavemq_router_trunk_duplicates_total',
      help: 'Trunk messages dropped as already held (resends)',
      registers,
    }),
    trunkSent: new Counter({
      name: 'wavemq_router_trunk_sent_messages_total',
      help: 'Trunk messages sent to the designated router (resends included)',
      labelNames: ['ns'],
      registers,
    }),
    trunkAcked: new Counter({
      name: 'wavemq_router_trunk_acked_messages_total',
      help: 'Trunk messages the designated router made durable',
      labelNames: ['ns'],
      registers,
    }),
    trunkRejected: new Counter({
      name: 'wavemq_router_trunk_rejected_messages_total',
      help: 'Trunk messages the designated router refused (skipped)',
      labelNames: ['ns'],
      registers,
    }),
    drainRate: new Gauge({
      name: 'wavemq_router_trunk_drain_rate',
      help: 'Trunk messages acked per second, smoothed',
      labelNames: ['ns'],
      registers,
    }),
    publisherSessions: new Gauge({
      name: 'wavemq_router_publisher_sessions',
      help:
        'Publisher session marks on disk (duplicate suppression), as of ' +
        'the last sweep plus sessions begun since',
      registers,
    }),
    publishDuplicates: new Counter({
      name: 'wavemq_router_publish_duplicates_total',
      help:
        'Messages dropped because their publisher session and sequence ' +
        'number were routed before (resends)',
      registers,
    }),
  };
}
