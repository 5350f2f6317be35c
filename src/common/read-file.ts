/**
 * Reading the text files a command is given (entity, proof, passphrase
 * files), with an error that names the file and what is wrong.
 */
import { readFile } from 'node:fs/promises';
import { WavemqError } from './errors.ts';

/** A file given to a command cannot be read. */
export class FileReadError extends WavemqError<{
  file: string;
  /** The system's error code, e.g. `ENOENT`, or `unknown`. */
  reason: string;
}> {
  readonly code = 'FILE_UNREADABLE';
}

/** The system's codes for a file that cannot be read, in words. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a folder on its path is a file',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

/**
 * The text of `path` (UTF-8).
 * @throws FileReadError naming the file, what is wrong in words and the
 *   system's code: `nope.ent: no such file (ENOENT)`.
 */
export async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    const why = REASONS[code] ?? 'cannot be read';
    throw new FileReadError(
      `${path}: ${why} (${code})`,
      { file: path, reason: code },
      { cause: err },
    );
  }
}
