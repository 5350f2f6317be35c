/**
 * One JSON exchange with an `http_v1` storage server, bounded in time and
 * in size, with every failure turned into a storage error that names the
 * provider and its URL.
 */
import { errorMessage } from '../common/index.ts';
import {
  StorageBadAnswerError,
  StorageRefusedError,
  StorageUnavailableError,
} from './errors.ts';

/**
 * Largest answer read, bytes. The biggest legitimate answer is one object
 * in base64 (a server's limit is 64 KiB by default, about 88 KiB of
 * text); anything far beyond is a broken server, and reading it all would
 * let that server fill our memory.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** Which provider an exchange is with; carried by every error. */
export interface StorageWhere extends Record<string, unknown> {
  provider: string;
  url: string;
}

/** A decoded answer: the HTTP status and its JSON object. */
export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** What {@link exchange} needs to make one request. */
export interface ExchangeOptions {
  where: StorageWhere;
  fetch: typeof fetch;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Sends one request to `url` and reads its JSON answer.
 * @throws StorageUnavailableError for a network error, a timeout or a
 *   5xx answer; StorageBadAnswerError for an answer that is not one JSON
 *   object or is larger than {@link MAX_ANSWER_BYTES}; the caller's abort
 *   reason when `signal` aborts.
 */
export async function exchange(
  url: string,
  init: RequestInit,
  o: ExchangeOptions,
): Promise<JsonAnswer> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
  try {
    const res = await o.fetch(url, { ...init, signal });
    const text = await readBounded(res, o.where);
    if (res.status >= 500) {
      throw new StorageUnavailableError(
        `storage provider ${o.where.provider} (${o.where.url}) failed: ` +
          `HTTP ${res.status}`,
        { ...o.where, reason: `HTTP ${res.status}` },
      );
    }
    return { status: res.status, body: parseObject(text, o.where) };
  } catch (err) {
    if (o.signal?.aborted) throw o.signal.reason;
    if (
      err instanceof StorageUnavailableError ||
      err instanceof StorageBadAnswerError
    ) {
      throw err;
    }
    const reason = timeout.aborted
      ? `no answer within ${o.timeoutMs} ms`
      : networkReason(err);
    throw new StorageUnavailableError(
      `storage provider ${o.where.provider} (${o.where.url}) unreachable: ` +
        reason,
      { ...o.where, reason },
      { cause: err },
    );
  }
}

/** The useful part of a fetch failure: undici hides it in `cause`. */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} ${cause.message}` : cause.message;
  }
  return errorMessage(err);
}

/** The answer's text, refusing to read more than MAX_ANSWER_BYTES. */
async function readBounded(
  res: Response,
  where: StorageWhere,
): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw tooLarge(where);
  }
  if (!res.body) return '';
  // Read by hand, not res.text(): that would take any size.
  const chunks: Uint8Array[] = [];
  let total = 0;
  const body = res.body as ReadableStream<Uint8Array>;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw tooLarge(where);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(where: StorageWhere): StorageBadAnswerError {
  return badAnswer(where, `answer larger than ${MAX_ANSWER_BYTES} bytes`);
}

function parseObject(
  text: string,
  where: StorageWhere,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badAnswer(where, 'answer is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badAnswer(where, 'answer is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** A StorageBadAnswerError naming the provider and `reason`. */
export function badAnswer(
  where: StorageWhere,
  reason: string,
): StorageBadAnswerError {
  return new StorageBadAnswerError(
    `storage provider ${where.provider} (${where.url}) answered ` +
      `wrongly: ${reason}`,
    { ...where, reason },
  );
}

/**
 * The error for a 4xx answer the caller did not expect: the server's own
 * `error` text when it gave one.
 */
export function refused(
  where: StorageWhere,
  answer: JsonAnswer,
): StorageRefusedError {
  const said = answer.body['error'];
  const reason =
    typeof said === 'string' && said.length > 0
      ? said.slice(0, 300)
      : `HTTP ${answer.status}`;
  return new StorageRefusedError(
    `storage provider ${where.provider} (${where.url}) refused: ` +
      `${reason} ` +
      `(HTTP ${answer.status})`,
    { ...where, status: answer.status, reason },
  );
}
