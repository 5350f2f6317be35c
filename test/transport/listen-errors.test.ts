import { randomFillSync } from 'node:crypto';
import t from 'tap';
import { silentLogger } from '../../src/common/index.ts';
import {
  createQuicTransport,
  createTlsIdentity,
} from '../../src/transport/index.ts';

async function listenOn(host: string, port: number): Promise<void> {
  const transport = createQuicTransport({ logger: silentLogger() });
  const identity = await createTlsIdentity(randomFillSync(new Uint8Array(32)));
  const l = await transport.listen({
    host,
    port,
    identity,
    onConnection: () => undefined,
  });
  await l.stop();
}

void t.test(
  'quic listen: an address that is not a valid IP says so',
  async (t) => {
    await t.rejects(listenOn('256.1.1.1', 4616), {
      code: 'LISTEN_FAILED',
      message:
        "cannot listen on 256.1.1.1:4616: invalid address: '256.1.1.1' " +
        'is not a valid IP address',
      data: { reason: /^invalid address/ },
    });
  },
);

void t.test(
  'quic listen: a host name that does not resolve gives the resolver code',
  async (t) => {
    // `.invalid` never resolves (RFC 6761); without DNS at all the
    // resolver answers EAI_AGAIN instead of ENOTFOUND.
    await t.rejects(listenOn('nosuchhost.invalid', 4616), {
      code: 'LISTEN_FAILED',
      message:
        /^cannot listen on nosuchhost\.invalid:4616: .+ \((ENOTFOUND|EAI_AGAIN)\)$/,
    });
  },
);

void t.test('quic listen: a port out of range is named', async (t) => {
  for (const port of [70000, Number.NaN]) {
    await t.rejects(listenOn('127.0.0.1', port), {
      code: 'LISTEN_FAILED',
      message: `cannot listen on 127.0.0.1:${port}: invalid port ${port}: a port is an integer 0..65535`,
    });
  }
});
