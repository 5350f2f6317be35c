import { request, type IncomingMessage } from 'node:http';
import t from 'tap';
import { Registry } from 'prom-client';
import {
  createStorageMetrics,
  STORAGE_METRIC_NAMES,
  StorageServer,
} from '../../src/storage/index.ts';
import { hashOf, toBase64Url } from '../../src/wave/index.ts';
import { startStorage, type TestStorage } from '../helpers/storage.ts';

/** One request to the server; the answer's status, headers and JSON. */
async function call(
  s: TestStorage,
  method: string,
  path: string,
  body?: string,
): Promise<{
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}> {
  const base = s.url.slice(0, -'/v1'.length);
  const res = await fetch(base + path, {
    method,
    ...(body === undefined ? {} : { body }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, json };
}

async function requests(
  s: TestStorage,
  route: string,
  status: number,
): Promise<number> {
  const m = await s.registry
    .getSingleMetric('wavemq_storage_requests_total')
    ?.get();
  const v = m?.values.find(
    (x) => x.labels['route'] === route && x.labels['status'] === String(status),
  );
  return v?.value ?? 0;
}

const put = (bytes: Uint8Array): string =>
  JSON.stringify({ object: toBase64Url(bytes) });

t.test(
  'storage server: answers info, stores an object once (201, then 200) and serves it back',
  async (t) => {
    const s = await startStorage(t);
    const info = await call(s, 'GET', '/v1/info');
    t.equal(info.status, 200);
    t.same(info.json, {
      service: 'wavemq-storage',
      version: 1,
      hash: 'blake2b-256',
    });
    const bytes = new TextEncoder().encode('a revocation secret, say');
    const first = await call(s, 'POST', '/v1/obj', put(bytes));
    t.equal(first.status, 201);
    t.equal(first.json['hash'], hashOf(bytes));
    const again = await call(s, 'POST', '/v1/obj', put(bytes));
    t.equal(again.status, 200, 'a second put of the same object is a 200');
    const got = await call(s, 'GET', `/v1/obj/${hashOf(bytes)}`);
    t.equal(got.status, 200);
    t.equal(got.json['object'], toBase64Url(bytes));
    // Standard base64 is accepted on input, in the body and in the path.
    const other = Buffer.from([0xfb, 0xff, 0xfe, 0x01]);
    const std = await call(
      s,
      'POST',
      '/v1/obj',
      JSON.stringify({ object: other.toString('base64') }),
    );
    t.equal(std.status, 201);
    const stdHash = Buffer.from(hashOf(other), 'base64url').toString('base64');
    const byStd = await call(
      s,
      'GET',
      `/v1/obj/${encodeURIComponent(stdHash)}`,
    );
    t.equal(byStd.json['object'], toBase64Url(other));
    const written = await s.registry
      .getSingleMetric('wavemq_storage_objects_written_total')
      ?.get();
    t.equal(written?.values[0]?.value, 2, 'two objects written');
  },
);

// [method, path, body, status, error text, route label]
const BAD: [string, string, string | undefined, number, RegExp, string][] = [
  ['POST', '/v1/obj', '{"object":', 400, /^body is not JSON$/, 'put'],
  ['POST', '/v1/obj', '["x"]', 400, /body must be a JSON object/, 'put'],
  ['POST', '/v1/obj', '{}', 400, /field 'object' is missing/, 'put'],
  [
    'POST',
    '/v1/obj',
    '{"object":5}',
    400,
    /field 'object' must be a base64 string, not number/,
    'put',
  ],
  [
    'POST',
    '/v1/obj',
    '{"object":"#!"}',
    400,
    /field 'object' is not base64url or base64/,
    'put',
  ],
  ['POST', '/v1/obj', '{"object":""}', 400, /field 'object' is empty/, 'put'],
  [
    'POST',
    '/v1/obj',
    put(new Uint8Array(101)),
    413,
    /field 'object' is 101 bytes, over the limit of 100/,
    'put',
  ],
  ['GET', '/v1/obj/abc', undefined, 400, /^hash in path: /, 'get'],
  [
    'GET',
    `/v1/obj/${Buffer.from([0x1b, 0x20, ...new Uint8Array(32)]).toString('base64url')}`,
    undefined,
    400,
    /hash in path: not a BLAKE2b-256 multihash/,
    'get',
  ],
  ['GET', '/v1/obj/%E0%A4%A', undefined, 400, /bad percent-encoding/, 'get'],
  ['GET', '/v1/obj/', undefined, 400, /hash in path: missing/, 'get'],
  [
    'GET',
    `/v1/obj/${hashOf(Uint8Array.of(7))}`,
    undefined,
    404,
    /^no object /,
    'get',
  ],
  ['GET', '/v1/nothing', undefined, 404, /^no route \/v1\/nothing/, 'other'],
  ['GET', '/v2/info', undefined, 404, /^no route/, 'other'],
  [
    'DELETE',
    `/v1/obj/${hashOf(Uint8Array.of(7))}`,
    undefined,
    405,
    /method DELETE not allowed .*: use GET or HEAD/,
    'get',
  ],
  ['PUT', '/v1/obj', '{}', 405, /method PUT not allowed .*: use POST/, 'put'],
  ['POST', '/v1/info', '{}', 405, /method POST not allowed/, 'info'],
];

t.test(
  'storage server: each bad request gets its status and an error naming what is wrong, is counted, and the server goes on serving',
  async (t) => {
    const s = await startStorage(t, { maxObjectBytes: 100 });
    for (const [method, path, body, status, text, route] of BAD) {
      const before = await requests(s, route, status);
      const r = await call(s, method, path, body);
      const what = `${method} ${path.slice(0, 40)}`;
      t.equal(r.status, status, `${what}: status`);
      t.match(r.json['error'], text, `${what}: error text`);
      t.type(r.json['code'], 'string', `${what}: a code`);
      if (status === 405) t.ok(r.headers.get('allow'), `${what}: Allow`);
      t.equal(await requests(s, route, status), before + 1, `${what}: counted`);
    }
    const bytes = Uint8Array.of(1, 2, 3);
    const ok = await call(s, 'POST', '/v1/obj', put(bytes));
    t.equal(ok.status, 201, 'a good put still works');
    const got = await call(s, 'GET', `/v1/obj/${hashOf(bytes)}`);
    t.equal(got.json['object'], toBase64Url(bytes), 'and a good get');
  },
);

/** Sends `chunks` as a body until an answer arrives; never ends it. */
function sendUntilAnswered(
  url: string,
  headers: Record<string, string | number>,
  chunk: Buffer | undefined,
): Promise<{ res: IncomingMessage; body: string; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    const req = request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ res, body, sentBytes }));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.flushHeaders();
    const pump = (): void => {
      if (answered || !chunk) return;
      sentBytes += chunk.length;
      if (req.write(chunk)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}

t.test(
  'storage server: a body over the limit gets 413 without being read to its end, and the connection closes',
  async (t) => {
    const s = await startStorage(t, { maxObjectBytes: 1000 });
    const url = `${s.url}/obj`;
    // Declared too large: refused on the headers, before any body.
    const declared = await sendUntilAnswered(
      url,
      { 'content-length': 50_000_000, 'content-type': 'application/json' },
      undefined,
    );
    t.equal(declared.res.statusCode, 413);
    t.match(declared.body, /request body over \d+ bytes/);
    t.equal(declared.res.headers['connection'], 'close');
    // Chunked and never ending: the answer comes while the client is
    // still sending, so the server did not wait for (or keep) it all.
    const streamed = await sendUntilAnswered(
      url,
      { 'transfer-encoding': 'chunked', 'content-type': 'application/json' },
      Buffer.alloc(16 * 1024, 0x41),
    );
    t.equal(streamed.res.statusCode, 413);
    t.match(streamed.body, /objects are at most 1000 bytes/);
    t.equal(streamed.res.headers['connection'], 'close');
    t.equal(await requests(s, 'put', 413), 2, 'both counted');
    const ok = await call(s, 'POST', '/v1/obj', put(Uint8Array.of(9)));
    t.equal(ok.status, 201, 'the server still takes a good put');
  },
);

t.test('storage server: objects survive a restart', async (t) => {
  const s = await startStorage(t);
  const bytes = new TextEncoder().encode('kept across restarts');
  t.equal((await call(s, 'POST', '/v1/obj', put(bytes))).status, 201);
  await s.restart();
  const got = await call(s, 'GET', `/v1/obj/${hashOf(bytes)}`);
  t.equal(got.status, 200);
  t.equal(got.json['object'], toBase64Url(bytes));
});

t.test(
  'storage server: start and stop are idempotent, and a port in use fails the start with the reason',
  async (t) => {
    const s = await startStorage(t);
    t.same(await s.server.start(), { host: '127.0.0.1', port: s.port });
    const other = new StorageServer({
      dataDir: `${s.dir}/other`,
      host: '127.0.0.1',
      port: s.port,
    });
    await t.rejects(other.start(), { code: 'EADDRINUSE' });
    await other.stop();
    await s.stop();
    await s.stop();
    await t.rejects(fetch(`${s.url}/info`), 'no longer listening');
  },
);

t.test(
  'storage metrics: every declared metric is registered, and only those',
  async (t) => {
    const registry = new Registry();
    createStorageMetrics(registry);
    const names = registry.getMetricsAsArray().map((m) => m.name);
    t.same(names.sort(), [...STORAGE_METRIC_NAMES].sort());
  },
);
