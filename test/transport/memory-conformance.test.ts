import t from 'tap';
import { createMemoryTransport } from '../../src/transport/index.ts';
import { transportConformance } from './conformance.ts';

transportConformance(t, 'memory transport', (o = {}) =>
  createMemoryTransport({ streamFinGraceMs: 300, ...o }),
);
