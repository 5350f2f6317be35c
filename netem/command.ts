/**
 * Running system commands (`ip`, `tc`) for the tc backend and the
 * namespace helpers: argv only (never a shell), bounded time and output.
 */
import { execFile } from 'node:child_process';
import { CommandError, NotRootError } from './errors.ts';

/** What a finished command printed. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs one command; resolves when it exits 0.
 * @throws CommandError on a non-zero exit, a signal or a timeout.
 */
export type CommandRunner = (
  argv: readonly string[],
  options?: { signal?: AbortSignal },
) => Promise<CommandOutput>;

/** Default time limit of one command, ms. */
const COMMAND_TIMEOUT_MS = 10_000;
/** Output kept from one command, bytes; the rest is an error. */
const MAX_OUTPUT_BYTES = 1 << 20;
/** Error output kept in a CommandError, characters. */
const MAX_STDERR_CHARS = 2_000;

/** Runs `argv` with execFile (no shell), 10 s limit, 1 MiB of output. */
export const runCommand: CommandRunner = (argv, options = {}) => {
  const [file, ...args] = argv;
  if (file === undefined) {
    return Promise.reject(
      new CommandError('empty command', {
        argv: [],
        exitCode: null,
        stderr: '',
      }),
    );
  }
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout: COMMAND_TIMEOUT_MS,
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: 'utf8',
        ...(options.signal && { signal: options.signal }),
      },
      (err, stdout, stderr) => {
        if (err) reject(commandError(argv, err, stderr));
        else resolve({ stdout, stderr });
      },
    );
  });
};

function commandError(
  argv: readonly string[],
  err: Error & { code?: unknown },
  stderr: string,
): CommandError {
  const code = typeof err.code === 'number' ? err.code : null;
  const text = (stderr || err.message).trim();
  return new CommandError(
    `${argv.join(' ')} failed: ${text.slice(0, 200)}`,
    {
      argv: [...argv],
      exitCode: code,
      stderr: text.slice(0, MAX_STDERR_CHARS),
    },
    { cause: err },
  );
}

/** True when this process runs as root. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Throws unless the process is root.
 * @throws NotRootError naming `operation`.
 */
export function requireRoot(operation: string): void {
  if (!isRoot()) {
    throw new NotRootError(`${operation} needs root (uid 0)`, { operation });
  }
}
