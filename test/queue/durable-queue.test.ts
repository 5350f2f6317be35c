import t from 'tap';
import { BACKENDS } from './backends.ts';
import { queueConformance } from './queue-conformance.ts';

for (const backend of BACKENDS) {
  void t.test(`queue store: ${backend.name}`, (t) => {
    queueConformance(t, backend);
    t.end();
  });
}
