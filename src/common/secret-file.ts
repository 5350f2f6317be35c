/**
 * Writing files that hold secrets (entity keys, ticket keys).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/**
 * Writes `data` to `path` readable by the owner only (mode 0600): to a
 * new temporary file beside it, flushed, then renamed over `path`, so the
 * secret is never briefly readable by others nor half written. The
 * folder must exist.
 * @throws the file system's error (the temporary file is removed).
 */
export async function writeSecretFile(
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined); // the rename error matters more
    throw err;
  }
}
