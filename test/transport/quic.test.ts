import t, { type Test } from 'tap';
import { QUICClient } from '@matrixai/quic';
import Logger, { LogLevel } from '@matrixai/logger';
import { randomFillSync } from 'node:crypto';
import { silentLogger } from '../../src/common/index.ts';
import {
  ConnectError,
  createQuicTransport,
  createTlsIdentity,
  type FrameStream,
} from '../../src/transport/index.ts';
import { encodeFrame } from '../../src/wire/index.ts';
import { firstJsonLine, runFixture, startFixture } from './child.ts';
import { firstFrame, withTimeout } from './conformance.ts';

const quick = () =>
  createQuicTransport({
    logger: silentLogger(),
    keepAliveMs: 200,
    idleTimeoutMs: 1000,
    streamFinGraceMs: 300,
  });

void t.test(
  'quic: a killed peer is noticed within the idle timeout',
  async (t) => {
    const server = startFixture('echo-server');
    t.teardown(() => void server.kill('SIGKILL'));
    const { port } = (await firstJsonLine(server)) as { port: number };
    const conn = await quick().connect({ host: '127.0.0.1', port });
    const s = await conn.openStream();
    await s.send('ping');
    const frames = s.frames()[Symbol.asyncIterator]();
    t.same((await frames.next()).value, { echo: 'ping' });
    const reading = (async () => {
      while (!(await frames.next()).done);
    })();
    const killedAt = Date.now();
    server.kill('SIGKILL');
    const { reason } = await withTimeout(conn.closed, 5000, 'never noticed');
    const elapsedMs = Date.now() - killedAt;
    t.equal(reason, 'idle timeout');
    t.ok(elapsedMs < 1000 + 1000, `noticed after ${elapsedMs} ms`);
    await withTimeout(reading, 1000, 'frames() hung after peer death');
  },
);

void t.test('quic: keep-alive holds an idle link open', async (t) => {
  const transport = quick();
  const identity = await createTlsIdentity(new Uint8Array(32).fill(1));
  const l = await transport.listen({
    host: '127.0.0.1',
    port: 0,
    identity,
    onConnection: (c) =>
      c.onStream((s) => {
        void firstFrame(s).then((f) => s.send({ echo: f }));
      }),
  });
  t.teardown(() => l.stop());
  const conn = await transport.connect({ host: '127.0.0.1', port: l.port });
  await new Promise((r) => setTimeout(r, 2500));
  const s = await conn.openStream();
  await s.send('still here');
  t.same(await firstFrame(s), { echo: 'still here' });
  await conn.close();
});

void t.test('quic: connecting to nothing fails within timeoutMs', async (t) => {
  const started = Date.now();
  const err = await quick()
    .connect({ host: '127.0.0.1', port: 9, timeoutMs: 500 })
    .catch((e: unknown) => e);
  t.type(err, ConnectError);
  t.equal((err as ConnectError).data.reason, 'timeout');
  t.ok(Date.now() - started < 3000, 'gave up in time');
});

void t.test('quic: aborting a pending connect rejects at once', async (t) => {
  const ac = new AbortController();
  const started = Date.now();
  const pending = quick().connect({
    host: '127.0.0.1',
    port: 9,
    timeoutMs: 10_000,
    signal: ac.signal,
  });
  setTimeout(() => ac.abort(new Error('operator gave up')), 100);
  await t.rejects(pending, /operator gave up/);
  t.ok(Date.now() - started < 2000, 'did not wait for the timeout');
});

void t.test(
  'quic: frames() ends when the peer stops without FIN',
  async (t) => {
    const transport = quick();
    const identity = await createTlsIdentity(new Uint8Array(32).fill(1));
    let server: FrameStream | undefined;
    const got = new Promise<unknown[]>((resolve) => {
      void transport
        .listen({
          host: '127.0.0.1',
          port: 0,
          identity,
          onConnection: (c) =>
            c.onStream((s) => {
              server = s;
              void (async () => {
                const frames: unknown[] = [];
                for await (const f of s.frames()) frames.push(f);
                resolve(frames);
              })();
            }),
        })
        .then(async (l) => {
          t.teardown(() => l.stop());
          await rawPeerThatNeverSendsFin(l.port, t);
        });
    });
    t.same(await withTimeout(got, 5000, 'frames() hung'), ['a', 'b']);
    await withTimeout(server!.closed, 2000, 'stream not closed');
  },
);

/**
 * Plays a peer whose FIN is lost: writes two frames, then stops reading
 * (STOP_SENDING) but never closes its writable side.
 */
async function rawPeerThatNeverSendsFin(port: number, t: Test) {
  const client = await QUICClient.createQUICClient({
    host: '127.0.0.1',
    port,
    crypto: {
      ops: {
        randomBytes: (b) => {
          randomFillSync(new Uint8Array(b));
          return Promise.resolve();
        },
      },
    },
    config: {
      applicationProtos: ['wavemq/1'],
      verifyPeer: true,
      verifyCallback: () => Promise.resolve(undefined),
    },
    logger: new Logger('raw', LogLevel.SILENT),
  });
  t.teardown(() => client.destroy({ force: true }));
  const stream = client.connection.newStream();
  const writer = stream.writable.getWriter();
  await writer.write(Buffer.concat([encodeFrame('a'), encodeFrame('b')]));
  await stream.readable.cancel('done reading');
}

void t.test('quic: a failing UDP send closes only that link', async (t) => {
  const r = await runFixture('send-fault');
  t.equal(r.code, 0, 'the process survived');
  const report = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  t.same(report['closed'], {
    reason: 'library fault: ErrorQUICClientInternal',
  });
  t.same(report['bystanderEcho'], { echo: 'bystander' });
  t.same(report['freshEcho'], { echo: 'fresh' });
  const faults = report['faults'] as { value: number; labels: object }[];
  t.ok(
    faults.some((f) => f.value >= 1),
    'faults were counted',
  );
});

void t.test(
  'quic: an unattributed library fault drops client links',
  async (t) => {
    const r = await runFixture('guard-unattributed');
    t.equal(r.code, 0, 'the process survived');
    const report = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    t.same(report['closed'], {
      reason: 'library fault: ErrorQUICConnectionInternal',
    });
    t.same(report['faults'], [{ value: 1, labels: { attributed: 'no' } }]);
    t.equal(report['listeners'], 1, 'one guard for three transports');
  },
);

void t.test(
  'quic: the guard rethrows errors that are not the library',
  async (t) => {
    const r = await runFixture('guard-rethrow');
    t.not(r.code, 0, 'the process ended');
    t.match(r.stderr, /a real bug/);
  },
);

void t.test('quic: keepAliveMs must be below idleTimeoutMs', (t) => {
  t.throws(
    () =>
      createQuicTransport({
        logger: silentLogger(),
        keepAliveMs: 5000,
        idleTimeoutMs: 5000,
      }),
    RangeError,
  );
  t.end();
});

void t.test(
  'quic: listening on a port in use names the reason from the system',
  async (t) => {
    const { createSocket } = await import('node:dgram');
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    t.teardown(() => taken.close());
    const { port } = taken.address();
    const transport = quick();
    const identity = await createTlsIdentity(
      randomFillSync(new Uint8Array(32)),
    );
    await t.rejects(
      transport.listen({
        host: '127.0.0.1',
        port,
        identity,
        onConnection: () => undefined,
      }),
      {
        code: 'LISTEN_FAILED',
        message: `cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
      },
    );
  },
);
