/**
 * The session ticket key file of a listener that resumes sessions across
 * restarts: 48 random bytes, replaced when older than a fixed age.
 */
import { randomFillSync } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  errorMessage,
  systemClock,
  writeSecretFile,
  type Clock,
} from '../common/index.ts';
import { TicketKeyFileError } from './errors.ts';
import { TICKET_KEY_BYTES } from './session-resumption.ts';

/**
 * Age at which {@link loadOrCreateTicketKey} replaces a key file: 7 days.
 * Tickets issued under the old key then only cost a full handshake.
 */
export const TICKET_KEY_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** A ticket key and whether it was read, made, or made to replace one. */
export interface TicketKeyFile {
  key: Uint8Array;
  origin: 'read' | 'created' | 'rotated';
}

/**
 * Reads the 48-byte session ticket key at `path`, or writes a new random
 * one (mode 0600, atomically by rename) when there is none or it is
 * older than `maxAgeMs` (default {@link TICKET_KEY_MAX_AGE_MS}, judged by
 * the file's modification time against `clock`). The key lets whoever
 * holds it resume sessions as this server: keep it as private as the
 * router's entity file.
 * @throws TicketKeyFileError naming the file when it is unreadable, not a
 *   regular file, not 48 bytes, or cannot be written.
 */
export async function loadOrCreateTicketKey(
  path: string,
  o: { clock?: Clock; maxAgeMs?: number } = {},
): Promise<TicketKeyFile> {
  const maxAgeMs = o.maxAgeMs ?? TICKET_KEY_MAX_AGE_MS;
  const now = (o.clock ?? systemClock).now();
  const existing = await readKeyFile(path);
  if (existing && now - existing.mtimeMs <= maxAgeMs) {
    return { key: existing.key, origin: 'read' };
  }
  const key = randomFillSync(new Uint8Array(TICKET_KEY_BYTES));
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeSecretFile(path, key);
  } catch (err) {
    throw keyFileError(path, `cannot write (${errorMessage(err)})`, err);
  }
  return { key, origin: existing ? 'rotated' : 'created' };
}

function keyFileError(
  path: string,
  reason: string,
  cause?: unknown,
): TicketKeyFileError {
  return new TicketKeyFileError(
    `session ticket key file ${path}: ${reason}`,
    { path, reason },
    { cause },
  );
}

/** The key and its age, or undefined when there is no file. */
async function readKeyFile(
  path: string,
): Promise<{ key: Uint8Array; mtimeMs: number } | undefined> {
  let key: Uint8Array;
  let mtimeMs: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw keyFileError(path, 'not a regular file');
    if (info.size !== TICKET_KEY_BYTES) {
      throw keyFileError(path, `${info.size} bytes, expected 48`);
    }
    mtimeMs = info.mtimeMs;
    key = new Uint8Array(await readFile(path));
  } catch (err) {
    if (err instanceof TicketKeyFileError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw keyFileError(path, `cannot read (${errorMessage(err)})`, err);
  }
  if (key.byteLength !== TICKET_KEY_BYTES) {
    const reason = `${key.byteLength} bytes, expected ${TICKET_KEY_BYTES}`;
    throw keyFileError(path, reason);
  }
  return { key, mtimeMs };
}
