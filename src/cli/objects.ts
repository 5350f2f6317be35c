/**
 * Reading the files the CLI is given: entity secrets, public entities,
 * attestations and proofs, and arguments that are either a hash or a file.
 */
import { existsSync } from 'node:fs';
import type { EntityHash } from '../common/ids.ts';
import { errorMessage } from '../common/errors.ts';
import { readTextFile } from '../common/read-file.ts';
import {
  Entity,
  Proof,
  parseHash,
  readObject,
  readPublicEntity,
  type WaveObject,
} from '../wave/index.ts';

/** The passphrase in `file` (first line), or WAVEMQ_PASSPHRASE. */
export async function readPassphrase(
  file?: string,
): Promise<string | undefined> {
  if (file) return (await readTextFile(file)).split('\n')[0];
  return process.env['WAVEMQ_PASSPHRASE'];
}

/** `read` applied to the text of `path`, its errors naming the file. */
async function readNamed<T>(path: string, read: (text: string) => T) {
  const text = await readTextFile(path);
  try {
    return read(text);
  } catch (err) {
    // Name the file: the reader's own message cannot.
    if (err instanceof Error) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

/** Reads any wave object file. */
export async function readObjectFile(
  path: string,
  passphrase?: string,
): Promise<WaveObject> {
  return readNamed(path, (text) => readObject(text, passphrase));
}

/** Loads an entity secret file. */
export async function loadEntity(
  path: string,
  passphrase?: string,
): Promise<Entity> {
  const obj = await readObjectFile(path, passphrase);
  if (obj.kind !== 'entity-secret') {
    throw new Error(`${path} holds ${obj.kind}, not an entity secret`);
  }
  return obj.entity;
}

/** Loads a proof file. */
export async function loadProof(path: string): Promise<Proof> {
  const obj = await readObjectFile(path);
  if (obj.kind !== 'proof')
    throw new Error(`${path} holds ${obj.kind}, not a proof`);
  return obj.proof;
}

/**
 * The entity hash named by `arg`: a file holding an entity (secret or
 * public), or the hash itself.
 */
export async function resolveHash(arg: string): Promise<EntityHash> {
  // A sealed secret file still shows its public part without the
  // passphrase. Text that looks like a path is not taken for a hash.
  if (existsSync(arg) || /[/\\]|\.(ent|pub)$/.test(arg)) {
    return (await readNamed(arg, readPublicEntity)).hash;
  }
  try {
    return parseHash(arg);
  } catch (err) {
    throw new Error(
      `'${arg}' is neither an entity file nor an entity hash ` +
        `(${errorMessage(err)})`,
      { cause: err },
    );
  }
}
