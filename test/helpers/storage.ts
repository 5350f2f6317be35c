/**
 * Storage servers for tests: a real StorageServer on 127.0.0.1 with a
 * LevelDB in a temporary folder, a fetch that counts its requests, and
 * tiny HTTP servers that answer whatever a test wants (lying servers).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import { StorageServer, storageUrl } from '../../src/storage/index.ts';

/** A running storage server and how to restart it on the same port. */
export interface TestStorage {
  dir: string;
  url: string;
  port: number;
  server: StorageServer;
  registry: Registry;
  /** Stops the server (idempotent). */
  stop(): Promise<void>;
  /** Starts a new server on the same folder and port. */
  restart(): Promise<void>;
}

/** Starts a storage server; the test's teardown stops it and removes it. */
export async function startStorage(
  t: Test,
  o: { maxObjectBytes?: number } = {},
): Promise<TestStorage> {
  const dir = await mkdtemp(join(tmpdir(), 'wavemq-storage-'));
  const make = (port: number): StorageServer =>
    new StorageServer({
      dataDir: join(dir, 'db'),
      host: '127.0.0.1',
      port,
      registry: new Registry(),
      ...o,
    });
  const first = make(0);
  const addr = await first.start();
  const s: TestStorage = {
    dir,
    url: storageUrl(addr),
    port: addr.port,
    server: first,
    registry: first.registry,
    stop: () => s.server.stop(),
    restart: async () => {
      await s.server.stop();
      s.server = make(addr.port);
      s.registry = s.server.registry;
      await s.server.start();
    },
  };
  t.teardown(async () => {
    await s.server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return s;
}

/** The global fetch, counting the requests it makes, by URL. */
export function countingFetch(): {
  fetch: typeof fetch;
  urls: string[];
} {
  const urls: string[] = [];
  const counted: typeof fetch = (input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return fetch(input, init);
  };
  return { fetch: counted, urls };
}

/** What a fake server answers a request with. */
export type FakeAnswer = {
  status: number;
  body: string;
};

/**
 * A plain HTTP server on 127.0.0.1 answering every request with
 * `answer(req)`, or never when it returns undefined (a hung server).
 * Resolves with its storage-style base URL.
 */
export async function fakeServer(
  t: Test,
  answer: (req: IncomingMessage, body: string) => FakeAnswer | undefined,
): Promise<{ url: string; requests: number }> {
  const state = { url: '', requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests += 1;
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const a = answer(req, body);
      if (!a) return;
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  state.url = storageUrl({ host: '127.0.0.1', port });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return state;
}
