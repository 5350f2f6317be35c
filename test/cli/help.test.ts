import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { REPO, runCli } from '../../harness/processes.ts';

t.test('cli: --version and -V print the package version', async (t) => {
  const pkg = JSON.parse(
    await readFile(join(REPO, 'package.json'), 'utf8'),
  ) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await runCli([flag]);
    t.equal(r.code, 0, `${flag} exits 0 (${r.stderr})`);
    t.equal(r.stdout, `${pkg.version}\n`, `${flag} prints the version`);
  }
});

t.test('cli: --help tells that wavemq FILE runs a router', async (t) => {
  const r = await runCli(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, 'wavemq FILE, with a path to a config file, is the same');
  t.match(r.stdout, 'wavemq run FILE');
});
