/**
 * `wavemq CONFIG`, `wavemq run CONFIG` and `wavemq demo`: run a router
 * until SIGINT or SIGTERM, then stop it cleanly (queues flushed).
 */
import { createLogger, type Logger } from '../common/logger.ts';
import { errorMessage } from '../common/errors.ts';
import { loadConfigFile, type RouterConfig } from '../config/index.ts';
import { Router, serveMetrics } from '../router/index.ts';
import {
  LOOPBACK_UDP_PAYLOAD_BYTES,
  createQuicTransport,
  isLoopbackHost,
} from '../transport/index.ts';
import { Registry } from 'prom-client';
import { AGENT_IDLE_MS, AGENT_KEEPALIVE_MS } from '../agent/index.ts';

/** Starts a router from `config` and runs it until a stop signal. */
export async function runRouter(
  config: RouterConfig,
  logger: Logger = createLogger(),
  onStarted?: (router: Router) => void | Promise<void>,
): Promise<void> {
  // One registry for the router and both transports, served together.
  const registry = new Registry();
  // Agents are on this host: a dead agent is noticed within seconds. Peer
  // link timings come from the config (defaults chosen for cellular and
  // satellite uplinks).
  const transport = createQuicTransport({
    logger,
    registry,
    keepAliveMs: AGENT_KEEPALIVE_MS,
    idleTimeoutMs: AGENT_IDLE_MS,
    ...(isLoopbackHost(config.local.listenAddr.host)
      ? { maxUdpPayloadBytes: LOOPBACK_UDP_PAYLOAD_BYTES }
      : {}),
  });
  // Uplinks keep their designated router's TLS session in memory; the
  // designated router's peer port keeps its ticket key on disk.
  const peerTransport = createQuicTransport({
    logger,
    registry,
    keepAliveMs: config.peer.keepAliveMs,
    idleTimeoutMs: config.peer.idleTimeoutMs,
    resumeSessions: true,
  });
  const router = await Router.start({
    config,
    transport,
    peerTransport,
    logger,
    registry,
  });
  const metrics = await startMetrics(router, config, logger);
  await onStarted?.(router);
  await stopSignal(logger);
  await metrics?.close();
  await router.stop();
}

/** Resolves at the first SIGINT or SIGTERM, logging it. */
export function stopSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * The metrics endpoint, when configured. A port that cannot be bound is
 * logged and the router goes on serving: metrics are not worth an outage.
 */
async function startMetrics(
  router: Router,
  config: RouterConfig,
  logger: Logger,
): Promise<{ close: () => Promise<void> } | undefined> {
  const addr = config.metrics.listenAddr;
  if (!addr) return undefined;
  try {
    return await serveMetrics(router.registry, addr, logger);
  } catch (err) {
    logger.error(
      { err: errorMessage(err), addr },
      'metrics endpoint not started',
    );
    return undefined;
  }
}

/** `wavemq run CONFIG`. */
export async function runFromFile(file: string): Promise<void> {
  const logger = createLogger();
  let config: RouterConfig;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    logger.fatal({ file, err: errorMessage(err) }, 'config rejected');
    throw err;
  }
  await runRouter(config, logger);
}
