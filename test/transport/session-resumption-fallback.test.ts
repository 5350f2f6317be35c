import t from 'tap';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { native } from '@matrixai/quic';
import { createLogger } from '../../src/common/index.ts';
import {
  createQuicTransport,
  createTlsIdentity,
} from '../../src/transport/index.ts';
import { nativeHooksProblem } from '../../src/transport/native-hooks.ts';
import { firstFrame } from './conformance.ts';

void t.test('session resumption: probing names what is missing', (t) => {
  t.equal(nativeHooksProblem(native.quiche), undefined);
  t.match(nativeHooksProblem({}), /Connection\.connect/);
  const quiche = native.quiche as unknown as { Connection: object };
  const noSession = Object.create(quiche.Connection, {
    prototype: { value: {} },
  }) as object;
  t.match(
    nativeHooksProblem({ ...native.quiche, Connection: noSession }),
    /Connection#setSession/,
  );
  t.end();
});

void t.test(
  'session resumption: with unexpected library internals links still ' +
    'connect, with full handshakes and one warning',
  async (t) => {
    // Stand in for a library version whose native connection lacks the
    // session calls: connecting must work as before.
    type Statics = Record<'connect' | 'accept', (...a: unknown[]) => unknown>;
    const quiche = native.quiche as unknown as { Connection: Statics };
    const original = quiche.Connection;
    quiche.Connection = Object.create(original, {
      prototype: { value: {} },
      connect: { value: original.connect.bind(original) },
      accept: { value: original.accept.bind(original) },
    }) as Statics;
    t.teardown(() => {
      quiche.Connection = original;
    });
    const lines: { level: number; msg: string }[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as (typeof lines)[0]);
          done();
        },
      }),
    });
    const transport = createQuicTransport({ logger, resumeSessions: true });
    const identity = await createTlsIdentity(randomBytes(32));
    const l = await transport.listen({
      host: '127.0.0.1',
      port: 0,
      identity,
      ticketKey: randomBytes(48),
      onConnection: (c) =>
        c.onStream((s) => {
          void firstFrame(s).then((f) => s.send({ echo: f }));
        }),
    });
    t.teardown(() => l.stop());
    for (let i = 0; i < 3; i++) {
      const c = await transport.connect({ host: '127.0.0.1', port: l.port });
      const s = await c.openStream();
      await s.send(i);
      t.same(await firstFrame(s), { echo: i });
      t.equal(c.resumed, false);
      await c.close();
    }
    const warnings = lines.filter((x) =>
      /native hooks unavailable/.test(x.msg),
    );
    t.equal(warnings.length, 1);
  },
);
