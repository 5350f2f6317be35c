/**
 * The in-band `err` frame: what went wrong, as the error's stable code,
 * its number from the wire table, its message and its data.
 */
import { WavemqError, errorMessage } from '../common/errors.ts';
import { wireErrorNumber, type RouterFrame } from '../wire/index.ts';

/** Builds the in-band error frame for `err`. */
export function errorFrame(err: unknown, id?: number): RouterFrame {
  const code = err instanceof WavemqError ? err.code : 'INTERNAL';
  const base = {
    code,
    n: wireErrorNumber(code),
    message: errorMessage(err),
    ...(err instanceof WavemqError
      ? { data: err.data as Record<string, unknown> }
      : {}),
  };
  return id === undefined ? { t: 'err', ...base } : { t: 'err', id, ...base };
}
