/**
 * Serves Prometheus text at `/metrics` on the configured address. Any
 * other path gets 404. Bound to loopback by default.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import { errorMessage } from '../common/errors.ts';

/** Starts the metrics endpoint; resolves with a function that stops it. */
export async function serveMetrics(
  registry: Registry,
  addr: { host: string; port: number },
  logger: Logger,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      },
      (err: unknown) => {
        logger.error({ err: errorMessage(err) }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve());
  });
  const address = server.address();
  const port =
    typeof address === 'object' && address ? address.port : addr.port;
  logger.info({ host: addr.host, port }, 'metrics endpoint listening');
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
