/** Runs transport fixtures in child processes, so a crash is contained. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** What a finished child left behind. */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `fixtures/<name>.ts` under tsx. */
export function startFixture(
  name: string,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(FIXTURES, `${name}.ts`)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** Runs a fixture to completion (killed after `timeoutMs`). */
export function runFixture(name: string, timeoutMs = 20_000) {
  const child = startFixture(name);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise<ChildResult>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The first stdout line of a running child, parsed as JSON. */
export function firstJsonLine(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const newline = buffered.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(buffered.slice(0, newline)));
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}
