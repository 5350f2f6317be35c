import t from 'tap';
import { BACKENDS } from './backends.ts';
import { queueConformance } from './queue-conformance.ts';

for (const backend of BACKENDS) {
  t.test(`queue store: ${backend.name}`, async (t) => {
    queueConformance(t, backend);
  });
}
