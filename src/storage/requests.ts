/**
 * Reading storage requests: which route a request is for, its body
 * (bounded), and the fields of a put. Every refusal is a
 * StorageRequestError naming the field at fault.
 */
import type { IncomingMessage } from 'node:http';
import type { EntityHash } from '../common/index.ts';
import {
  fromBase64,
  InvalidHashError,
  isBlake2bHash,
  parseHash,
} from '../wave/index.ts';
import {
  StorageBadRequestError,
  StorageMethodError,
  StorageNotFoundError,
  StorageTooLargeError,
} from './errors.ts';
import type { StorageRoute } from './metrics.ts';

/** The API's path prefix: the version of the protocol. */
export const STORAGE_API_PATH = '/v1';

/** A request resolved to a route, with the hash a get names. */
export type Resolved =
  { route: 'info' } | { route: 'put' } | { route: 'get'; hash: EntityHash };

const METHODS: Record<Exclude<StorageRoute, 'other'>, string[]> = {
  info: ['GET', 'HEAD'],
  put: ['POST'],
  get: ['GET', 'HEAD'],
};

/** The route a path names, before its method is checked. */
export function routeOf(path: string): StorageRoute {
  if (path === `${STORAGE_API_PATH}/info`) return 'info';
  if (path === `${STORAGE_API_PATH}/obj`) return 'put';
  const rest = path.slice(`${STORAGE_API_PATH}/obj/`.length);
  if (path.startsWith(`${STORAGE_API_PATH}/obj/`) && !rest.includes('/')) {
    return 'get';
  }
  return 'other';
}

/**
 * Resolves `method` on `path` (no query string).
 * @throws StorageNotFoundError for an unknown route; StorageMethodError
 *   for a method the route does not take; StorageBadRequestError for a
 *   bad hash in the path.
 */
export function resolve(method: string, path: string): Resolved {
  const route = routeOf(path);
  if (route === 'other') {
    throw new StorageNotFoundError(
      `no route ${path}: the API is ${STORAGE_API_PATH}/info, ` +
        `${STORAGE_API_PATH}/obj and ${STORAGE_API_PATH}/obj/{hash}`,
      { path },
    );
  }
  const allowed = METHODS[route];
  if (!allowed.includes(method)) {
    throw new StorageMethodError(
      `method ${method} not allowed on ${path}: use ${allowed.join(' or ')}`,
      { method, path, allowed },
    );
  }
  if (route !== 'get') return { route };
  return { route, hash: pathHash(path.slice(path.lastIndexOf('/') + 1)) };
}

/** The hash in a get's path: BLAKE2b-256, base64url or escaped base64. */
function pathHash(segment: string): EntityHash {
  const bad = (reason: string): StorageBadRequestError =>
    new StorageBadRequestError(`hash in path: ${reason}`, {
      field: 'hash',
      reason,
    });
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    throw bad('bad percent-encoding');
  }
  if (text === '') throw bad('missing');
  let hash: EntityHash;
  try {
    hash = parseHash(text);
  } catch (err) {
    if (err instanceof InvalidHashError) throw bad(err.data.reason);
    throw err;
  }
  if (!isBlake2bHash(hash)) {
    throw bad('not a BLAKE2b-256 multihash (objects here are named by one)');
  }
  return hash;
}

/**
 * The whole body of `req`, refusing more than `maxBytes` (room for an
 * object of `maxObjectBytes` in base64, named in the error): a declared
 * length over it is refused before reading; a body that grows past it
 * stops being read (the caller answers and closes the connection).
 * @throws StorageTooLargeError.
 */
export function readBody(
  req: IncomingMessage,
  maxBytes: number,
  maxObjectBytes: number,
): Promise<Buffer> {
  const tooLarge = (): StorageTooLargeError =>
    new StorageTooLargeError(
      `request body over ${maxBytes} bytes (objects are at most ` +
        `${maxObjectBytes} bytes)`,
      { field: 'body', maxBytes },
    );
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      done();
      req.pause();
      reject(tooLarge());
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * The object in a put's body `{ "object": "<base64>" }`.
 * @throws StorageBadRequestError naming the field; StorageTooLargeError
 *   for an object over `maxObjectBytes`.
 */
export function putObject(body: Buffer, maxObjectBytes: number): Uint8Array {
  const bad = (field: string, reason: string): StorageBadRequestError =>
    new StorageBadRequestError(
      field === 'body' ? `body ${reason}` : `field '${field}' ${reason}`,
      { field, reason },
    );
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw bad('body', 'is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('body', 'must be a JSON object');
  }
  const text = (value as Record<string, unknown>)['object'];
  if (text === undefined) throw bad('object', 'is missing');
  if (typeof text !== 'string') {
    const kind = text === null ? 'null' : typeof text;
    throw bad('object', `must be a base64 string, not ${kind}`);
  }
  const bytes = fromBase64(text);
  if (!bytes) throw bad('object', 'is not base64url or base64');
  if (bytes.length === 0) throw bad('object', 'is empty');
  if (bytes.length > maxObjectBytes) {
    throw new StorageTooLargeError(
      `field 'object' is ${bytes.length} bytes, over the limit of ` +
        `${maxObjectBytes}`,
      { field: 'object', maxBytes: maxObjectBytes },
    );
  }
  return bytes;
}
