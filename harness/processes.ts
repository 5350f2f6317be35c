/**
 * Real processes for end-to-end tests: routers started from config files
 * through the `wavemq` command, and CLI runs. Every child is killed when
 * the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(REPO, 'bin', 'wavemq.js');

const children = new Set<ChildProcess>();
function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}
process.on('exit', killChildren);
// A test that times out is ended with a signal, which skips 'exit'.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(1);
  });
}

/** A UDP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/** A running router process and the JSON log lines it printed. */
export interface RouterProcess {
  proc: ChildProcess;
  logs: Record<string, unknown>[];
  /** Resolves when a log line satisfies `pred`. */
  waitForLog(
    pred: (l: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `wavemq CONFIG` and waits for its 'router started' line. */
/**
 * The program and arguments that run `args` with node, inside network
 * namespace `netns` when given (`ip netns exec` replaces itself with the
 * command, so the child's pid is node's).
 */
function nodeCommand(args: string[], netns?: string): [string, string[]] {
  if (!netns) return [process.execPath, args];
  return ['ip', ['netns', 'exec', netns, process.execPath, ...args]];
}

export async function startRouter(
  configPath: string,
  env: NodeJS.ProcessEnv = {},
  o: { netns?: string } = {},
): Promise<RouterProcess> {
  const nodeArgs = (process.env['WAVEMQ_ROUTER_NODE_ARGS'] ?? '')
    .split(' ')
    .filter(Boolean);
  const [file, argv] = nodeCommand([...nodeArgs, BIN, configPath], o.netns);
  const proc = spawn(file, argv, {
    env: { ...process.env, WAVEMQ_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const logs: Record<string, unknown>[] = [];
  const waiters: {
    pred: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let buf = '';
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { msg: line, unparsed: true };
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.pred(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      children.delete(proc);
      resolve(code);
    }),
  );
  const waitForLog = (
    pred: (l: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ) => {
    const found = logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `log line not seen in ${timeoutMs} ms; stderr: ${stderr}`,
            ),
          ),
        timeoutMs,
      );
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `router exited (${code}) before the log line; stderr: ${stderr}`,
          ),
        );
      });
    });
  };
  const r: RouterProcess = {
    proc,
    logs,
    waitForLog,
    kill: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  await waitForLog((l) => l['msg'] === 'router started');
  return r;
}

/** Result of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wavemq ARGS` to completion, feeding `input` on stdin. */
export function runCli(
  args: string[],
  o: {
    input?: string;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    netns?: string;
  } = {},
): Promise<CliResult> {
  const [file, argv] = nodeCommand([BIN, ...args], o.netns);
  const proc = spawn(file, argv, {
    env: { ...process.env, ...o.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdin.end(o.input ?? '');
  const timer = setTimeout(() => proc.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    proc.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(proc);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a CLI process without waiting for it (e.g. a subscriber). */
export function spawnCli(
  args: string[],
  o: { netns?: string } = {},
): {
  proc: ChildProcess;
  output: () => string;
  done: Promise<CliResult>;
} {
  const [file, argv] = nodeCommand([BIN, ...args], o.netns);
  const proc = spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) =>
    proc.once('exit', (code) => {
      children.delete(proc);
      resolve({ code, stdout, stderr });
    }),
  );
  return { proc, output: () => stdout, done };
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end)
      throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return typeof addr === 'object' && addr ? addr.port : 0;
}
