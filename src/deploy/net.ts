// The trigger's sockets: listening, the URL it shows, and whether a port is free.
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

/**
 * The kernel's queue of connections not yet accepted (Node's default is 511). When it is full the kernel
 * drops a new connection's SYN and its sender tries again only a second later: under a flood of connections
 * a delivery waited 1–5 s. Linux caps it at net.core.somaxconn (4096 by default since Linux 5.4).
 */
export const LISTEN_BACKLOG = 4096;

export function listenOn(server: Server, at: { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: at.port, host: at.host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
}

export function shownUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return `http://${host}:${address.port}`;
}

/** Can `port` be bound? A service that outlived its revision (without cgroups) may still hold it. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probeServer = createNetServer();
    probeServer.once('error', () => resolve(false));
    // The wildcard address: a service listening on any IPv4 address of the port (or on ::) makes it fail.
    probeServer.listen(port, '0.0.0.0', () => probeServer.close(() => resolve(true)));
  });
}
