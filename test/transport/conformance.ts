/**
 * One behaviour suite for every Transport implementation (QUIC and
 * in-memory). Each implementation's test file calls
 * {@link transportConformance} with a factory.
 */
import type { Test } from 'tap';
import {
  ConnectionClosedError,
  PeerKeyMismatchError,
  StreamClosedError,
  createTlsIdentity,
  type Connection,
  type FrameStream,
  type Listener,
  type ListenOptions,
  type TlsIdentity,
  type Transport,
} from '../../src/transport/index.ts';
import { WRITE_RAW } from '../../src/transport/frame-stream.ts';
import {
  FrameTooLargeError,
  MalformedFrameError,
  TruncatedFrameError,
} from '../../src/wire/index.ts';

/** Makes a transport; `maxStreams` is the per-connection stream limit. */
export type TransportFactory = (o?: { maxStreams?: number }) => Transport;

/** The first frame of `stream`, failing after `ms`. */
export async function firstFrame(
  stream: FrameStream,
  ms = 5000,
): Promise<unknown> {
  const it = stream.frames()[Symbol.asyncIterator]();
  const next = await withTimeout(it.next(), ms, 'no frame arrived');
  return next.done ? undefined : next.value;
}

/** Rejects with `message` if `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Writes raw bytes on a stream, bypassing framing. */
function rawWrite(stream: FrameStream, bytes: Uint8Array): Promise<void> {
  const raw = stream as unknown as Record<
    typeof WRITE_RAW,
    (b: Uint8Array) => Promise<void>
  >;
  return raw[WRITE_RAW](bytes);
}

/** Resolves once `done()` holds, failing after 5 s. */
async function waitFor(done: () => boolean, message: string) {
  await withTimeout(
    (async () => {
      while (!done()) await new Promise((r) => setTimeout(r, 10));
    })(),
    5000,
    message,
  );
}

/** A server that answers every frame `f` with `{ echo: f }`. */
function echoOnConnection(c: Connection): void {
  c.onStream((s) => {
    void (async () => {
      try {
        for await (const f of s.frames()) await s.send({ echo: f });
      } catch (err) {
        await s.send({ error: (err as Error).name }).catch(() => undefined);
      } finally {
        await s.close();
      }
    })();
  });
}

interface Fixture {
  transport: Transport;
  server: TlsIdentity;
  client: TlsIdentity;
  other: TlsIdentity;
  listen(o?: Partial<ListenOptions>): Promise<Listener>;
  connect(l: Listener, o?: object): Promise<Connection>;
}

async function fixture(t: Test, make: TransportFactory, maxStreams?: number) {
  const transport = make(maxStreams === undefined ? {} : { maxStreams });
  const [server, client, other] = await Promise.all(
    [1, 2, 3].map((n) => createTlsIdentity(new Uint8Array(32).fill(n))),
  );
  const conns: Connection[] = [];
  const listeners: Listener[] = [];
  t.teardown(async () => {
    await Promise.all(conns.map((c) => c.close('test over')));
    await Promise.all(listeners.map((l) => l.stop()));
  });
  const f: Fixture = {
    transport,
    server: server!,
    client: client!,
    other: other!,
    async listen(o = {}) {
      const l = await transport.listen({
        host: '127.0.0.1',
        port: 0,
        identity: f.server,
        onConnection: echoOnConnection,
        ...o,
      });
      listeners.push(l);
      return l;
    },
    async connect(l, o = {}) {
      const c = await transport.connect({
        host: '127.0.0.1',
        port: l.port,
        ...o,
      });
      conns.push(c);
      return c;
    },
  };
  return f;
}

/** Registers the conformance tests for `name` on `t`. */
export function transportConformance(
  t: Test,
  name: string,
  make: TransportFactory,
): void {
  const test = (title: string, fn: (t: Test) => Promise<void>) =>
    void t.test(`${name}: ${title}`, fn);

  test('echoes frames over an ephemeral port', async (t) => {
    const f = await fixture(t, make);
    const l = await f.listen();
    t.ok(l.port > 0, 'port 0 picked a real port');
    const c = await f.connect(l, { expectedServerKey: f.server.publicKey });
    t.same(c.peerPublicKey, f.server.publicKey, 'client sees server key');
    t.equal(c.remote.port, l.port);
    const s = await c.openStream();
    await s.send({ hello: 'world', bytes: Buffer.from([1, 2]) });
    t.same(await firstFrame(s), {
      echo: { hello: 'world', bytes: Buffer.from([1, 2]) },
    });
    await s.close();
  });

  test('sendMany delivers every frame in order', async (t) => {
    const f = await fixture(t, make);
    const c = await f.connect(await f.listen());
    const s = await c.openStream();
    const sent = Array.from({ length: 200 }, (_, i) => ({ i }));
    await s.sendMany(sent);
    const got: unknown[] = [];
    for await (const frame of s.frames()) {
      got.push(frame);
      if (got.length === sent.length) break;
    }
    t.same(
      got,
      sent.map((x) => ({ echo: x })),
    );
    await s.close();
  });

  test('refuses a server whose key is not the pinned one', async (t) => {
    const f = await fixture(t, make);
    const l = await f.listen();
    const err = await f
      .connect(l, { expectedServerKey: f.other.publicKey })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    t.type(err, PeerKeyMismatchError);
    const data = (err as PeerKeyMismatchError).data;
    t.equal(data.actual, Buffer.from(f.server.publicKey).toString('base64url'));
    t.match((err as Error).message, /not the expected one/);
  });

  test('requires and checks client certificates', async (t) => {
    const f = await fixture(t, make);
    const seen: Connection[] = [];
    const l = await f.listen({
      verifyClient: (key) => Buffer.from(key).equals(f.client.publicKey),
      onConnection: (c) => {
        seen.push(c);
        echoOnConnection(c);
      },
    });
    const good = await f.connect(l, { identity: f.client });
    const s = await good.openStream();
    await s.send('hi');
    t.same(await firstFrame(s), { echo: 'hi' });
    t.same(seen[0]?.peerPublicKey, f.client.publicKey, 'server sees key');
    for (const identity of [undefined, f.other]) {
      const refused = await f
        .connect(l, identity ? { identity } : {})
        .then((c) => withTimeout(c.closed, 5000, 'not closed'))
        .then(
          (r) => r.reason,
          (e: unknown) => (e as Error).message,
        );
      t.match(refused, /TLS|certificate/i, 'refused with a TLS reason');
    }
    t.equal(seen.length, 1, 'refused clients never reach onConnection');
  });

  test('runs more concurrent streams than the limit', async (t) => {
    const f = await fixture(t, make, 100);
    const c = await f.connect(await f.listen());
    const results = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const s = await c.openStream();
        await s.send({ i, pad: 'x'.repeat(1000) });
        const echo = (await firstFrame(s, 20_000)) as { echo: { i: number } };
        await s.close();
        return echo.echo.i;
      }),
    );
    t.same(
      results,
      Array.from({ length: 150 }, (_, i) => i),
    );
    const late = await c.openStream();
    await late.send('still works');
    t.same(await firstFrame(late), { echo: 'still works' });
  });

  test('reuses freed stream slots far past the limit', async (t) => {
    const f = await fixture(t, make, 10);
    const c = await f.connect(await f.listen());
    for (let i = 0; i < 40; i++) {
      const s = await withTimeout(c.openStream(), 5000, `stream ${i} stuck`);
      await s.send(i);
      t.same(await firstFrame(s), { echo: i });
      await s.close();
    }
    t.pass('40 sequential streams with a limit of 10');
  });

  test('an oversized frame ends only its own stream', async (t) => {
    const f = await fixture(t, make);
    const l = await f.listen({ maxFrameBytes: 1024 });
    const c = await f.connect(l);
    const bad = await c.openStream();
    const good = await c.openStream();
    await bad.send({ big: Buffer.alloc(2048) });
    t.same(await firstFrame(bad), { error: 'FrameTooLargeError' });
    await good.send('fine');
    t.same(await firstFrame(good), { echo: 'fine' });
    const c2 = await f.connect(l);
    const s2 = await c2.openStream();
    await s2.send('other connection');
    t.same(await firstFrame(s2), { echo: 'other connection' });
  });

  test('garbage bytes end only their own stream', async (t) => {
    const f = await fixture(t, make);
    const c = await f.connect(await f.listen());
    const bad = await c.openStream();
    const good = await c.openStream();
    await rawWrite(bad, new Uint8Array([0, 0, 0, 3, 0xff, 0xfe, 0xfd]));
    t.same(await firstFrame(bad), { error: 'MalformedFrameError' });
    await good.send('fine');
    t.same(await firstFrame(good), { echo: 'fine' });
  });

  test('frames() throws the named decode errors', async (t) => {
    const f = await fixture(t, make);
    const got: unknown[] = [];
    const l = await f.listen({
      maxFrameBytes: 64,
      onConnection: (c) =>
        c.onStream((s) => {
          void (async () => {
            try {
              for await (const x of s.frames()) got.push(x);
            } catch (err) {
              got.push(err);
            }
          })();
        }),
    });
    const c = await f.connect(l);
    const s1 = await c.openStream();
    await s1.sendMany(['ok', 'x'.repeat(100)]);
    const s2 = await c.openStream();
    await rawWrite(s2, new Uint8Array([0, 0, 0, 1, 0xff]));
    await waitFor(() => got.length >= 3, 'errors not seen');
    t.ok(got.includes('ok'), 'frames before the bad one arrive');
    t.ok(got.some((x) => x instanceof FrameTooLargeError));
    t.ok(got.some((x) => x instanceof MalformedFrameError));
  });

  test('a frame cut by FIN is truncated, one cut by a reset is not', async (t) => {
    const f = await fixture(t, make);
    const outcomes: unknown[] = [];
    const l = await f.listen({
      onConnection: (c) =>
        c.onStream((s) => {
          void (async () => {
            try {
              for await (const x of s.frames()) void x;
              outcomes.push('ended');
            } catch (err) {
              outcomes.push(err);
            }
          })();
        }),
    });
    const c = await f.connect(l);
    const partial = new Uint8Array([0, 0, 0, 9, 0x82]);
    const cut = await c.openStream();
    await rawWrite(cut, partial);
    await cut.close();
    await waitFor(() => outcomes.length === 1, 'no outcome after FIN');
    t.type(outcomes[0], TruncatedFrameError);
    const reset = await c.openStream();
    await rawWrite(reset, partial);
    await new Promise((r) => setTimeout(r, 100));
    await c.close('gone');
    await waitFor(() => outcomes.length === 2, 'no outcome after reset');
    t.equal(outcomes[1], 'ended');
  });

  test('closing a stream ends the peer side', async (t) => {
    const f = await fixture(t, make);
    let serverStream: FrameStream | undefined;
    const ended = new Promise<unknown[]>((resolve) => {
      void f
        .listen({
          onConnection: (c) =>
            c.onStream((s) => {
              serverStream = s;
              void (async () => {
                const got: unknown[] = [];
                for await (const x of s.frames()) got.push(x);
                resolve(got);
              })();
            }),
        })
        .then((l) => f.connect(l))
        .then(async (c) => {
          const s = await c.openStream();
          await s.sendMany([1, 2, 3]);
          await s.close();
          await s.close();
          await t.rejects(s.send(4), StreamClosedError);
        });
    });
    t.same(await withTimeout(ended, 8000, 'peer frames() hung'), [1, 2, 3]);
    await withTimeout(serverStream!.closed, 8000, 'peer stream not closed');
  });

  test('closing a connection ends its streams and the peer', async (t) => {
    const f = await fixture(t, make);
    let serverConn: Connection | undefined;
    const l = await f.listen({
      onConnection: (c) => {
        serverConn = c;
        c.onStream(() => undefined);
      },
    });
    const c = await f.connect(l);
    const s = await c.openStream();
    await s.send('open');
    const reading = (async () => {
      for await (const x of s.frames()) void x;
      return 'ended';
    })();
    await c.close('maintenance');
    await c.close();
    t.equal(await withTimeout(reading, 5000, 'frames() hung'), 'ended');
    await withTimeout(s.closed, 1000, 'stream not closed');
    t.same(await c.closed, { reason: 'maintenance' });
    await t.rejects(c.openStream(), ConnectionClosedError);
    const peer = await withTimeout(serverConn!.closed, 5000, 'peer open');
    t.match(peer.reason, /maintenance/);
  });

  test('peer-opened streams wait for a late handler', async (t) => {
    const f = await fixture(t, make);
    const l = await f.listen({
      onConnection: (c) => {
        void (async () => {
          const s = await c.openStream();
          await s.send('from server');
          await firstFrame(s);
        })();
      },
    });
    const c = await f.connect(l);
    await new Promise((r) => setTimeout(r, 200));
    const got = new Promise<unknown>((resolve) => {
      c.onStream((s) => {
        void firstFrame(s).then(async (x) => {
          await s.send('ack');
          resolve(x);
        });
      });
    });
    t.equal(await withTimeout(got, 5000, 'no stream'), 'from server');
  });

  test('an aborted openStream frees its place', async (t) => {
    const f = await fixture(t, make, 4);
    const c = await f.connect(await f.listen());
    const held = await Promise.all([1, 2].map(() => c.openStream()));
    const ac = new AbortController();
    const waiting = c.openStream({ signal: ac.signal });
    ac.abort(new Error('gave up'));
    await t.rejects(waiting, /gave up/);
    await held[0]!.close();
    const s = await withTimeout(c.openStream(), 5000, 'slot leaked');
    await s.send('x');
    t.same(await firstFrame(s), { echo: 'x' });
  });

  test('an aborted connect rejects with the reason', async (t) => {
    const f = await fixture(t, make);
    const l = await f.listen();
    const signal = AbortSignal.abort(new Error('not now'));
    await t.rejects(f.connect(l, { signal }), /not now/);
  });

  test('stopping a listener closes its connections', async (t) => {
    const f = await fixture(t, make);
    let accepted: () => void = () => undefined;
    const serverSide = new Promise<void>((r) => (accepted = r));
    const l = await f.listen({ onConnection: () => accepted() });
    const c = await f.connect(l);
    await withTimeout(serverSide, 5000, 'never accepted');
    await l.stop();
    await l.stop();
    const r = await withTimeout(c.closed, 5000, 'client not closed');
    t.match(r.reason, /server stopping/);
  });
}
