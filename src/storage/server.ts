/**
 * The `http_v1` storage server: objects by hash in a LevelDB, served as
 * JSON over HTTP (see wave/storage.ts for the API). Bad requests are
 * answered with `{ error, code }`, counted, and never stop the server.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { isIP } from 'node:net';
import { Registry } from 'prom-client';
import { errorMessage, silentLogger, type Logger } from '../common/index.ts';
import { LevelKvStore, openDataStore, type DataStore } from '../queue/index.ts';
import { toBase64Url } from '../wave/index.ts';
import {
  StorageMethodError,
  StorageNotFoundError,
  StorageRequestError,
} from './errors.ts';
import { createStorageMetrics, type StorageMetrics } from './metrics.ts';
import { ObjectStore } from './object-store.ts';
import {
  putObject,
  readBody,
  resolve,
  routeOf,
  STORAGE_API_PATH,
  type Resolved,
} from './requests.ts';

/** Default largest object stored, bytes (a revocation secret is 32). */
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024;
/** Default port of `wavemq storage serve`. */
export const DEFAULT_STORAGE_PORT = 4520;
/**
 * Longest time a request may take to arrive, ms: a client that trickles
 * its body cannot hold a connection for long.
 */
const REQUEST_TIMEOUT_MS = 30_000;
/** Most open connections; bounds file descriptors and memory. */
const MAX_CONNECTIONS = 1024;
/** What `GET /v1/info` answers. */
const INFO = { service: 'wavemq-storage', version: 1, hash: 'blake2b-256' };

/** Options of {@link StorageServer}. */
export interface StorageServerOptions {
  /** Folder of the LevelDB; created if missing. */
  dataDir: string;
  /** Address to listen on, e.g. 127.0.0.1 or 0.0.0.0. */
  host: string;
  /** Port to listen on; 0 picks a free one (see `start()`'s answer). */
  port: number;
  /** Default silent. */
  logger?: Logger;
  /** Where metrics are registered; default a registry of its own. */
  registry?: Registry;
  /** Largest object accepted, bytes; default 64 KiB. */
  maxObjectBytes?: number;
}

/** The base URL of a storage server at `addr`, e.g. http://h:4520/v1. */
export function storageUrl(addr: { host: string; port: number }): string {
  const host = isIP(addr.host) === 6 ? `[${addr.host}]` : addr.host;
  return `http://${host}:${addr.port}${STORAGE_API_PATH}`;
}

type Reply = { status: number; body: Record<string, unknown> };

/** A storage server; `start()` and `stop()` are idempotent. */
export class StorageServer {
  /** Where the server's metrics are registered. */
  readonly registry: Registry;
  private readonly metrics: StorageMetrics;
  private readonly log: Logger;
  private readonly maxObjectBytes: number;
  private readonly maxBodyBytes: number;
  private started?: Promise<{ host: string; port: number }>;
  private stopped?: Promise<void>;
  private http?: Server;
  private store?: DataStore;
  private objects?: ObjectStore;
  private readonly handling = new Set<Promise<void>>();

  constructor(private readonly o: StorageServerOptions) {
    this.registry = o.registry ?? new Registry();
    this.metrics = createStorageMetrics(this.registry);
    this.log = (o.logger ?? silentLogger()).child({ component: 'storage' });
    this.maxObjectBytes = o.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    // The object in base64, plus room for the JSON around it.
    this.maxBodyBytes = Math.ceil(this.maxObjectBytes / 3) * 4 + 1024;
  }

  /**
   * Opens the data store and listens; resolves with the address bound.
   * @throws the data store's open error (e.g. the folder is in use) or
   *   the listen error (e.g. EADDRINUSE).
   */
  start(): Promise<{ host: string; port: number }> {
    this.started ??= this.open();
    return this.started;
  }

  /** Stops listening, lets requests in progress end, closes the store. */
  stop(): Promise<void> {
    this.stopped ??= this.close();
    return this.stopped;
  }

  private async open(): Promise<{ host: string; port: number }> {
    this.store = await openDataStore(this.o.dataDir);
    this.objects = new ObjectStore(new LevelKvStore(this.store.db));
    const http = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (q, s) =>
      this.track(this.handle(q, s)),
    );
    http.maxConnections = MAX_CONNECTIONS;
    this.http = http;
    try {
      await new Promise<void>((ok, fail) => {
        http.once('error', fail);
        http.listen(this.o.port, this.o.host, () => {
          http.off('error', fail);
          ok();
        });
      });
    } catch (err) {
      await this.store.close();
      throw err;
    }
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const addr = { host: this.o.host, port };
    this.log.info(
      { ...addr, url: storageUrl(addr), dataDir: this.store.path },
      'storage server listening',
    );
    return addr;
  }

  private async close(): Promise<void> {
    await this.started?.catch(() => undefined);
    const http = this.http;
    if (http) {
      const closed = new Promise<void>((ok) => http.close(() => ok()));
      http.closeAllConnections();
      await closed;
    }
    await Promise.all(this.handling);
    await this.store?.close();
    if (this.store) this.log.info('storage server stopped');
  }

  private track(p: Promise<void>): void {
    this.handling.add(p);
    void p.finally(() => this.handling.delete(p));
  }

  /** Answers one request; never rejects. */
  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routeOf(path);
    let reply: Reply;
    try {
      reply = await this.answer(resolve(method, path), req);
    } catch (err) {
      reply = this.refusal(err, res, { method, path });
    }
    // A body left unread (too large, or sent where none is taken) is not
    // drained: the connection closes after the answer instead.
    if (hasBody(req) && !req.readableEnded) {
      res.setHeader('connection', 'close');
    }
    this.metrics.requests.inc({ route, status: String(reply.status) });
    this.log.debug({ method, route, status: reply.status }, 'request');
    send(res, reply);
  }

  private async answer(r: Resolved, req: IncomingMessage): Promise<Reply> {
    const objects = this.objects as ObjectStore;
    switch (r.route) {
      case 'info':
        return { status: 200, body: INFO };
      case 'get': {
        const bytes = await objects.get(r.hash);
        if (!bytes) {
          throw new StorageNotFoundError(`no object ${r.hash}`, {
            path: `${STORAGE_API_PATH}/obj/${r.hash}`,
          });
        }
        return { status: 200, body: { object: toBase64Url(bytes) } };
      }
      case 'put': {
        const body = await readBody(
          req,
          this.maxBodyBytes,
          this.maxObjectBytes,
        );
        const put = await objects.put(putObject(body, this.maxObjectBytes));
        if (put.created) this.metrics.objectsWritten.inc();
        return { status: put.created ? 201 : 200, body: { hash: put.hash } };
      }
    }
  }

  private refusal(
    err: unknown,
    res: ServerResponse,
    where: { method: string; path: string },
  ): Reply {
    if (err instanceof StorageRequestError) {
      if (err instanceof StorageMethodError) {
        res.setHeader('allow', err.data.allowed.join(', '));
      }
      return {
        status: err.status,
        body: { error: err.message, code: err.code },
      };
    }
    this.log.error({ ...where, err: errorMessage(err) }, 'request failed');
    return { status: 500, body: { error: 'internal error', code: 'INTERNAL' } };
  }
}

/** Whether a request declares a body (by length or chunked coding). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
