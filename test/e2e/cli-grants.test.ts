import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../../harness/processes.ts';

t.test(
  'cli: a zero or bad --expiry is refused naming the option, and nothing is written',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-cli-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const ns = join(dir, 'ns.ent');
    const made = await runCli(['entity', 'new', '-o', ns]);
    t.equal(made.code, 0, `entity new exits 0 (${made.stderr})`);
    const zero = await runCli([
      'entity',
      'new',
      '--expiry',
      '0s',
      '-o',
      join(dir, 'x.ent'),
    ]);
    t.equal(zero.code, 1);
    t.match(zero.stderr, "--expiry must be above zero, not '0s'");
    t.notOk(existsSync(join(dir, 'x.ent')), 'no file left');
    const grant = join(dir, 'g.grant');
    const bad = await runCli([
      'attest',
      '--attester',
      ns,
      '--subject',
      ns,
      '--namespace',
      ns,
      '--permissions',
      'publish',
      '--resource',
      'a',
      '--expiry',
      'soon',
      '-o',
      grant,
    ]);
    t.equal(bad.code, 1);
    t.match(bad.stderr, "'soon' is not a duration");
    t.notOk(existsSync(grant), 'no grant written');
  },
);
