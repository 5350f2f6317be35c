/**
 * Programs the trials and root-only tests need from the system (the
 * Mosquitto broker, nft): found on PATH, or installed from Debian's
 * packages with apt-get when missing and the process is root.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isRoot } from './command.ts';
import { PackageMissingError } from './errors.ts';

/** Longest time one apt-get run may take, ms. */
const INSTALL_TIMEOUT_MS = 300_000;

/**
 * The first `name` in `pathList` (default PATH), else the first of
 * `fallbacks` (absolute paths) that exists, else undefined.
 */
export function findBinary(
  name: string,
  fallbacks: readonly string[] = [],
  pathList: string = process.env['PATH'] ?? '',
): string | undefined {
  for (const dir of pathList.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return fallbacks.find((p) => existsSync(p));
}

/** What {@link ensurePackage} looks for and may install. */
export interface PackageWanted {
  /** The program, e.g. `nft`. */
  binary: string;
  /** Debian's package that ships it, e.g. `nftables`. */
  pkg: string;
  /** Where the package installs it, searched after PATH. */
  fallbacks?: readonly string[];
  /** Install when missing (needs root); default true. */
  install?: boolean;
  /** Told what is being done (one line each). */
  say?: (line: string) => void;
}

/**
 * The path of `binary`, installing Debian's `pkg` with apt-get first
 * when it is missing and we are root (running `apt-get update` once if
 * the first install fails).
 * @throws PackageMissingError saying why it cannot be had.
 */
export async function ensurePackage(w: PackageWanted): Promise<string> {
  const fallbacks = w.fallbacks ?? [];
  const found = findBinary(w.binary, fallbacks);
  if (found) return found;
  const apt = findBinary('apt-get');
  const missing = (reason: string, exitCode?: number) =>
    new PackageMissingError(
      `${w.binary} is not installed and ${reason}; install Debian's ` +
        `\`${w.pkg}\` package`,
      { binary: w.binary, pkg: w.pkg, reason, exitCode },
    );
  if (w.install === false) throw missing('installing it was not allowed');
  if (!isRoot()) throw missing('installing it needs root');
  if (apt === undefined) throw missing('apt-get is not available');
  w.say?.(`installing Debian's ${w.pkg}`);
  let out = await runTolerant(apt, ['-y', '-q', 'install', w.pkg]);
  if (out.code !== 0) {
    await runTolerant(apt, ['-q', 'update']);
    out = await runTolerant(apt, ['-y', '-q', 'install', w.pkg]);
  }
  const path = findBinary(w.binary, fallbacks);
  if (out.code === 0 && path !== undefined) return path;
  const tail = out.stderr.trim().split('\n').slice(-2).join(' ');
  throw missing(`apt-get install failed (exit ${out.code}): ${tail}`, out.code);
}

/** What {@link runTolerant} saw. */
export interface Finished {
  /** Exit code; 1 for a failure without one (signal, timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file` (no shell, non-interactive for apt) for at most
 * INSTALL_TIMEOUT_MS; never rejects: a failure is its exit code.
 */
export function runTolerant(file: string, args: string[]): Promise<Finished> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
