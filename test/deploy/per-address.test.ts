// Issue 18: connections from one host past `connections.per_address` are
// closed as they are accepted, before Node builds a socket for them (the cheap
// path that lets the trigger drain a flood from one host faster than it comes),
// while another host is still answered. The trigger's real HTTP surface on
// 127.0.0.1; 127.0.0.2 is another host.
import type { Server } from 'node:http';
import { rawPost } from '../helpers/raw-post.js';
import { connect, type Socket } from 'node:net';
import { listenOn } from '../../src/deploy/net.js';
import { hostKey, triggerServer, type Handlers } from '../../src/deploy/server.js';

const handlers: Handlers = {
  hook: () => ({ status: 202, body: '{}\n' }),
  hookTooLarge: () => ({ status: 413, body: '{}\n' }),
  log: () => ({ status: 404, body: '' }),
  signal: () => ({ status: 403, body: '{}\n' }),
  page: () => 'page',
  state: () => ({}),
  metrics: async () => ({ type: 'text/plain', body: '' }),
};

/** A connection that sends part of a request's headers and waits; resolves once it is closed by the server, or after `ms`. */
function idle(port: number, from: string): { socket: Socket; connected: Promise<void>; closed: Promise<boolean> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  void connected.then(() => socket.write('GET / HTTP/1.1\r\nHost: x\r\n'));
  const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
  return { socket, connected, closed };
}

const within = <T>(p: Promise<T>, ms: number, otherwise: T) => Promise.race([p, new Promise<T>((r) => setTimeout(() => r(otherwise), ms))]);

describe('connections per host', () => {
  let server: Server;
  let port: number;
  let accepted = 0;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = triggerServer(handlers, () => {}, 'all', { maxConnections: 500, perAddress: 4, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    server.on('connection', () => accepted++);
    await listenOn(server, { host: '127.0.0.1', port: 0 });
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('closes a host’s connections past per_address as they are accepted, before they are sockets; another host is still answered', async () => {
    const first = Array.from({ length: 4 }, () => idle(port, '127.0.0.1'));
    sockets.push(...first.map((c) => c.socket));
    await Promise.all(first.map((c) => c.connected));
    await new Promise((r) => setTimeout(r, 200));
    const extra = Array.from({ length: 3 }, () => idle(port, '127.0.0.1'));
    sockets.push(...extra.map((c) => c.socket));
    // Past the cap: closed at once. The first four stay open.
    expect(await Promise.all(extra.map((c) => within(c.closed, 5000, false)))).toEqual([true, true, true]);
    expect(await Promise.all(first.map((c) => within(c.closed, 200, false)))).toEqual([false, false, false, false]);
    // Never a socket: the server saw four connections, not seven.
    expect(accepted).toBe(4);

    const other = await fetchFrom('127.0.0.2', port);
    expect(other).toBe(202);

    // One of the host's connections closes: it may open one more.
    first[0].socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = idle(port, '127.0.0.1');
    sockets.push(again.socket);
    await again.connected;
    expect(await within(again.closed, 500, false)).toBe(false);
  });

  it('counts an IPv4 address, an IPv4-mapped IPv6 address as the same, and an IPv6 /64 as one host', () => {
    expect(hostKey('203.0.113.7')).toBe('203.0.113.7');
    expect(hostKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(hostKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(hostKey('2001:DB8:1:2::ff')).toBe('2001:db8:1:2::/64');
    expect(hostKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(hostKey('::1')).toBe('0:0:0:0::/64');
    expect(hostKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

/** A signed-looking POST from `from` on a connection of its own: its status. */
async function fetchFrom(from: string, port: number): Promise<number> {
  const { status } = await rawPost({ port, path: '/hooks/trunk-updated', headers: {}, body: '{}', from, timeoutMs: 10_000 });
  if (status === 0) throw new Error(`no answer from 127.0.0.1:${port} to a POST from ${from}`);
  return status;
}
