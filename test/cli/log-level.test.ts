import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../../harness/processes.ts';

t.test(
  'cli: an unknown WAVEMQ_LOG_LEVEL is one line naming the variable, exit 1',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-log-level-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'f.toml');
    await writeFile(file, '[LocalConfig]\n');
    const r = await runCli(['run', file], {
      env: { WAVEMQ_LOG_LEVEL: 'loud' },
    });
    t.equal(r.code, 1);
    t.equal(
      r.stderr,
      'wavemq: WAVEMQ_LOG_LEVEL="loud" is not a log level; use one of ' +
        'silent, fatal, error, warn, info, debug, trace (LOG_LEVEL_INVALID)\n',
      'one line, no stack',
    );
    t.equal(r.stdout, '', 'no router started');
  },
);
