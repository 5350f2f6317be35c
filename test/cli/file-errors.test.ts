import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../../harness/processes.ts';

t.test(
  'cli: a file that cannot be read is named, with what is wrong and a code',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-files-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const missing = join(dir, 'nope.ent');
    const pub = await runCli([
      'pub',
      'a/b',
      'x',
      '--entity',
      missing,
      '--namespace',
      missing,
    ]);
    t.equal(pub.code, 1);
    t.equal(
      pub.stderr,
      `wavemq: ${missing}: no such file (ENOENT) (FILE_UNREADABLE)\n`,
    );
    const inspect = await runCli(['inspect', dir]);
    t.equal(inspect.code, 1);
    t.equal(
      inspect.stderr,
      `wavemq: ${dir}: is a directory, not a file (EISDIR) (FILE_UNREADABLE)\n`,
    );
    const hash = await runCli([
      'attest',
      '--attester',
      missing,
      '--subject',
      dir,
      '--namespace',
      dir,
      '--permissions',
      'publish',
      '--resource',
      'a',
      '-o',
      join(dir, 'g.grant'),
    ]);
    t.equal(hash.code, 1);
    t.match(hash.stderr, `${missing}: no such file (ENOENT) (FILE_UNREADABLE)`);
  },
);

t.test(
  'cli: an argument that is a file or a hash names a directory given for it',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-files-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const ent = join(dir, 'a.ent');
    t.equal((await runCli(['entity', 'new', '-o', ent])).code, 0);
    const r = await runCli([
      'attest',
      '--attester',
      ent,
      '--subject',
      dir,
      '--namespace',
      ent,
      '--permissions',
      'publish',
      '--resource',
      'a',
      '-o',
      join(dir, 'g.grant'),
    ]);
    t.equal(r.code, 1);
    t.equal(
      r.stderr,
      `wavemq: ${dir}: is a directory, not a file (EISDIR) (FILE_UNREADABLE)\n`,
    );
  },
);

t.test(
  'cli: a file without read permission is named',
  // The superuser reads any file, so the refusal cannot be seen as root.
  { skip: process.getuid?.() === 0 ? 'running as root' : false },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-files-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const secret = join(dir, 'closed.ent');
    await writeFile(secret, 'x');
    await chmod(secret, 0o000);
    const r = await runCli(['inspect', secret]);
    t.equal(r.code, 1);
    t.equal(
      r.stderr,
      `wavemq: ${secret}: permission denied (EACCES) (FILE_UNREADABLE)\n`,
    );
  },
);
