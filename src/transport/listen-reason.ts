/**
 * Why a QUIC server could not start, in words with the code behind it.
 * The library throws its own errors with an empty message, and for a
 * host it cannot use it drops the resolver's error, so the reason is
 * found again here.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { errors as quicErrors } from '@matrixai/quic';
import { errorMessage } from '../common/index.ts';

/** Words for the socket and resolver errors a listener meets most. */
const OS_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  EINVAL: 'invalid argument',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed for now (no DNS answer)',
};

/** A code of the system or the resolver, such as `EADDRINUSE`. */
function isOsCode(code: unknown): code is string {
  return typeof code === 'string' && /^E[A-Z_]+$/.test(code);
}

/** `code` in words, with the code. */
function inWords(code: string): string {
  return `${OS_ERRORS[code] ?? 'socket error'} (${code})`;
}

/**
 * The operating system's reason behind a library error, from the
 * deepest cause with an errno code (`EADDRINUSE`), in words.
 */
function osReason(err: unknown): string | undefined {
  let found: string | undefined;
  for (let e: unknown = err, depth = 0; e && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (isOsCode(code)) found = code;
    e = (e as { cause?: unknown }).cause;
  }
  return found === undefined ? undefined : inWords(found);
}

/**
 * Why `host` cannot be listened on: not an IP address and not a name
 * that resolves. The resolver is asked again for its error code.
 */
async function hostReason(host: string): Promise<string> {
  // Digits and dots are meant as an IPv4 address, and a colon as an
  // IPv6 one, never as a name: asking the resolver would only say
  // "not found".
  if (/^[\d.]+$/.test(host) || host.includes(':')) {
    return `invalid address: '${host}' is not a valid IP address`;
  }
  try {
    await lookup(host);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return isOsCode(code) ? inWords(code) : errorMessage(err);
  }
  return `the host name '${host}' could not be resolved`;
}

/**
 * Why listening on `host:port` failed, never empty: the system's error
 * code in words (`address already in use (EADDRINUSE)`), why the host or
 * port is unusable, or else the library's own description.
 */
export async function listenReason(
  err: unknown,
  host: string,
  port: number,
): Promise<string> {
  const os = osReason(err);
  if (os) return os;
  if (err instanceof quicErrors.ErrorQUICHostInvalid && isIP(host) === 0) {
    return hostReason(host);
  }
  if (err instanceof quicErrors.ErrorQUICPortInvalid) {
    return `invalid port ${port}: a port is an integer 0..65535`;
  }
  const message = errorMessage(err);
  if (message) return message;
  const described = (err as { description?: unknown }).description;
  if (typeof described === 'string' && described) return described;
  return err instanceof Error ? err.name : String(err);
}
