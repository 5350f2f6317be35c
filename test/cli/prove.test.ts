import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runCli } from '../../harness/processes.ts';

/** Runs the CLI and returns its stdout, failing the test on an error. */
async function ok(t: Test, args: string[]): Promise<string> {
  const r = await runCli(args);
  t.equal(r.code, 0, `wavemq ${args[0]} exits 0 (${r.stderr})`);
  return r.stdout.trim();
}

t.test(
  'cli prove: a re-delegation beyond a grant of 0 indirections is named with the grant and the rule',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-prove-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const [ns, a, s] = ['ns', 'a', 's'].map((n) => join(dir, `${n}.ent`));
    for (const f of [ns, a, s] as string[]) {
      await ok(t, ['entity', 'new', '-o', f]);
    }
    const grant = (attester: string, subject: string, out: string) =>
      ok(t, [
        'attest',
        '--attester',
        attester,
        '--subject',
        subject,
        '--namespace',
        ns as string,
        '--permissions',
        'publish',
        '--resource',
        'a/*',
        '--indirections',
        '0',
        '-o',
        join(dir, out),
      ]);
    const first = await grant(ns as string, a as string, 'first.grant');
    await grant(a as string, s as string, 'second.grant');
    const r = await runCli([
      'prove',
      join(dir, 'first.grant'),
      join(dir, 'second.grant'),
      '--subject',
      s as string,
      '--namespace',
      ns as string,
      '--permissions',
      'publish',
      '--resource',
      'a/b',
      '-o',
      join(dir, 'p.proof'),
    ]);
    t.equal(r.code, 1);
    t.match(r.stderr, '(2 of 2 attestations usable');
    t.match(
      r.stderr,
      `grant ${first}: allows 0 further delegations but 1 follow it`,
    );
    t.match(r.stderr, '(NO_PROOF_FOUND)');
  },
);
