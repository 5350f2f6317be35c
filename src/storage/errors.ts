/**
 * Why the storage server refused a request. Each leaf carries the HTTP
 * status it is answered with; the message goes back to the client as
 * `{ "error": message, "code": code }` and names what is wrong.
 */
import { WavemqError } from '../common/index.ts';

/** Base of every refusal; `status` is the HTTP status answered. */
export abstract class StorageRequestError<
  D extends Record<string, unknown> = Record<string, unknown>,
> extends WavemqError<D> {
  abstract readonly status: number;
}

/**
 * A malformed request: body not JSON, `object` missing, ill-typed or not
 * base64, a bad hash in the path. `field` names the part at fault.
 */
export class StorageBadRequestError extends StorageRequestError<{
  field: string;
  reason: string;
}> {
  readonly code = 'STORAGE_BAD_REQUEST';
  readonly status = 400;
}

/** No object under that hash, or no such route. */
export class StorageNotFoundError extends StorageRequestError<{
  path: string;
}> {
  readonly code = 'STORAGE_NOT_FOUND';
  readonly status = 404;
}

/** A known route asked with a method it does not take. */
export class StorageMethodError extends StorageRequestError<{
  method: string;
  path: string;
  allowed: string[];
}> {
  readonly code = 'STORAGE_METHOD_NOT_ALLOWED';
  readonly status = 405;
}

/** A request body or object over the server's limit. */
export class StorageTooLargeError extends StorageRequestError<{
  field: string;
  maxBytes: number;
}> {
  readonly code = 'STORAGE_TOO_LARGE';
  readonly status = 413;
}
