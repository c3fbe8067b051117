// The trigger's sockets: listening, the URL it shows, and whether a port is free.
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

/**
 * The kernel's queue of connections not yet accepted: Node's default, on purpose. Under a flood it is full
 * now and then, and a new connection's SYN is dropped (its sender tries again a second later); a deeper
 * queue (4096) dropped fewer but made every delivery wait behind thousands of the flood's connections,
 * accepted in order: p50 0.8–1.2 s, max 3.5–6.7 s against p50 70–100 ms, max 1.2–1.6 s with 511.
 */
export const LISTEN_BACKLOG = 511;

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
