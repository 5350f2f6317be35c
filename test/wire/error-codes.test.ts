import t from 'tap';
import { WavemqError } from '../../src/common/errors.ts';
import { WIRE_ERROR_CODES } from '../../src/wire/index.ts';

// Every folder's public surface, plus modules whose errors are internal.
const modules = [
  '../../src/common/index.ts',
  '../../src/common/duration.ts',
  '../../src/wire/index.ts',
  '../../src/transport/index.ts',
  '../../src/wave/index.ts',
  '../../src/queue/index.ts',
  '../../src/agent/index.ts',
  '../../src/router/index.ts',
  '../../src/config/index.ts',
  '../../src/storage/index.ts',
];

t.test(
  'error table: every leaf error class has a wire number, and numbers are unique',
  async (t) => {
    const seen = new Map<string, string>();
    for (const path of modules) {
      const mod = (await import(path)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        if (
          typeof value !== 'function' ||
          !(value.prototype instanceof WavemqError)
        )
          continue;
        const Ctor = value as new (m: string, d: object) => WavemqError;
        const code = new Ctor('probe', {}).code as string | undefined;
        if (code === undefined) continue; // an abstract base such as ProofError
        seen.set(code, name);
      }
    }
    t.ok(seen.size >= 40, `found ${seen.size} error codes`);
    for (const [code, name] of seen) {
      t.type(
        WIRE_ERROR_CODES[code],
        'number',
        `${name} (${code}) has a wire number`,
      );
    }
    const numbers = Object.values(WIRE_ERROR_CODES);
    t.equal(new Set(numbers).size, numbers.length, 'no number is used twice');
  },
);
