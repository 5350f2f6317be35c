import { isIP, isIPv4, isIPv6 } from 'node:net';
import { InvalidAddressError } from './errors.ts';

/** A TCP/UDP endpoint. `host` is a name, an IPv4 or a bare IPv6 address. */
export interface HostPort {
  host: string;
  /** 1..65535. */
  port: number;
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner
// hyphens, each 1..63 characters, 253 characters in all.
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/** Reason given when text has no `host:port` shape at all. */
export const EXPECTED_HOST_PORT = 'expected host:port';

/**
 * Parses `host:port` or `[ipv6]:port`. The host may be a DNS name, an IPv4
 * address or a bracketed IPv6 address; the port must be 1..65535.
 * @throws InvalidAddressError saying what is wrong with the text.
 */
export function parseHostPort(text: string): HostPort {
  const fail = (why: string): never => {
    throw new InvalidAddressError(`address ${show(text)}: ${why}`, {
      address: text,
      reason: why,
    });
  };
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  if (!m) {
    if (isIPv6(text.replace(/:\d+$/, ''))) {
      fail('an IPv6 host needs brackets, as in [::1]:4515');
    }
    return fail(EXPECTED_HOST_PORT);
  }
  const [, v6, name = '', portText = ''] = m;
  const host = v6 ?? name;
  if (host === '') fail('the host is missing (0.0.0.0 listens on all)');
  if (v6 !== undefined && !isIPv6(v6)) fail('bad IPv6 address');
  if (v6 === undefined && !isIPv4(host) && !HOST_NAME.test(host)) {
    fail('bad host name');
  }
  if (!/^\d{1,5}$/.test(portText)) fail('the port must be a number');
  const port = Number(portText);
  if (port < 1 || port > 65535) fail('the port must be 1..65535');
  return { host, port };
}

/** Formats an endpoint as `host:port`, bracketing IPv6 hosts. */
export function formatHostPort(hp: HostPort): string {
  const host = isIP(hp.host) === 6 ? `[${hp.host}]` : hp.host;
  return `${host}:${hp.port}`;
}

function show(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
