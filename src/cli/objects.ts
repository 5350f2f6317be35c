/**
 * Reading the files the CLI is given: entity secrets, public entities,
 * attestations and proofs, and arguments that are either a hash or a file.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { EntityHash } from '../common/ids.ts';
import { errorMessage } from '../common/errors.ts';
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
  if (file) return (await readFile(file, 'utf8')).split('\n')[0];
  return process.env['WAVEMQ_PASSPHRASE'];
}

/** Reads any wave object file. */
export async function readObjectFile(
  path: string,
  passphrase?: string,
): Promise<WaveObject> {
  const text = await readFile(path, 'utf8');
  try {
    return readObject(text, passphrase);
  } catch (err) {
    // Name the file: the reader's own message cannot.
    if (err instanceof Error) err.message = `${path}: ${err.message}`;
    throw err;
  }
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
  if (!existsSync(arg) && /[/\\]|\.(ent|pub)$/.test(arg)) {
    throw new Error(`${arg}: no such file (expected an entity file or a hash)`);
  }
  // A sealed secret file still shows its public part without the passphrase.
  if (existsSync(arg))
    return readPublicEntity(await readFile(arg, 'utf8')).hash;
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
