/**
 * Small promise wrappers around UDP sockets shared by the relay and its
 * client table.
 */
import type { Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** An IP address (or host name, resolved once at start) and UDP port. */
export interface HostPort {
  host: string;
  port: number;
}

/** `host` itself when it is an IP address, else its first address. */
export async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  return (await lookup(host)).address;
}

/** Binds `socket` to `at`; rejects with the bind error. */
export function bindSocket(socket: Socket, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(at.port, at.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** The bound address, or undefined while binding or once closed. */
export function addressOf(
  socket: Socket,
): { address: string; port: number } | undefined {
  try {
    return socket.address();
  } catch {
    // Not bound yet (or closed): there is no address to report.
    return undefined;
  }
}

/** Resolves once `socket` (bound in the background) is bound. */
export function bound(socket: Socket): Promise<void> {
  if (addressOf(socket)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('listening', () => resolve());
    socket.once('error', reject);
  });
}

/** Closes `socket`; resolves when closed (at once if it already was). */
export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      // Never bound or already closed: nothing left to release.
      resolve();
    }
  });
}
