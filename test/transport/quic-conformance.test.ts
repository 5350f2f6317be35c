import t from 'tap';
import { silentLogger } from '../../src/common/index.ts';
import { createQuicTransport } from '../../src/transport/index.ts';
import { transportConformance } from './conformance.ts';

transportConformance(t, 'quic transport', (o = {}) =>
  createQuicTransport({
    logger: silentLogger(),
    keepAliveMs: 1000,
    idleTimeoutMs: 10_000,
    streamFinGraceMs: 300,
    ...o,
  }),
);
