// The trigger's HTTP surface, translation only: routes, body limits, status codes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readBody, refuse } from '../http/body.js';
import type { Socket } from 'node:net';
import { ReaderBudget } from './readers.js';
import { MAX_BODY_BYTES } from './webhook.js';

export interface Reply {
  status: number;
  body: string;
  type?: string;
}

export interface Handlers {
  hook(body: Buffer, headers: IncomingMessage['headers']): Reply;
  /** A hook body over the limit: recorded as refused; the answer is the 413. */
  hookTooLarge(headers: IncomingMessage['headers']): Reply;
  /** The last lines of a revision's output (text/plain), or 404. */
  log(sha: string, repository: string | null): Reply;
  signal(sha: string, token: string, note: string): Reply;
  /** The status page; `refresh: false` for GET /?refresh=0; `before` (a deploy number) pages to older revisions, as `/api/state` does. */
  page(options: { refresh: boolean; before: number | null }): string;
  /** `/api/state`: `before` (a deploy number) and `limit` page through older revisions. */
  state(page: { before: number | null; limit: number | null }): unknown;
  metrics(): Promise<{ type: string; body: string }>;
}

/** A reply's status, headers and body; nosniff: a log or an error text is never read by a browser as HTML. */
const reply = (r: Reply) => ({ status: r.status, body: r.body, headers: { 'content-type': r.type ?? 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } });

function send(res: ServerResponse, r: Reply): void {
  const { status, headers, body } = reply(r);
  res.writeHead(status, headers);
  res.end(body);
}

const json = (status: number, value: unknown): Reply => ({ status, body: `${JSON.stringify(value)}\n` });
const busy = json(503, { error: 'too many readers of the status page at once; try again' });

/** What a listener serves: everything, only what the network must reach (hooks, signals), or only the status surface. */
export type Surface = 'all' | 'hooks' | 'status';

export interface Limits {
  /** Open connections at most; past `max` less a reserve the oldest connection is dropped for a new one. */
  maxConnections: number;
  /** Open connections from one host (an IPv4 address, an IPv6 /64) at most; past it its new ones are closed as they are accepted. */
  perAddress: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export function triggerServer(handlers: Handlers, onError: (err: unknown) => void, surface: Surface = 'all', limits?: Limits): Server {
  // Deadlines are checked every second (Node's default is every 30 s, which would triple a 10 s deadline).
  const deadlines = limits ? { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 } : {};
  const readers = new ReaderBudget(); // the page and /api/state take turns, and a bounded part of the thread
  const server = createServer(deadlines, (req, res) => {
    route(req, res, handlers, surface, readers).catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) send(res, json(500, { error: 'internal error' }));
      else res.end();
    });
  });
  if (limits) limitConnections(server, limits);
  return server;
}

/**
 * A cap below the process's descriptors. At the cap less a
 * reserve, a new connection evicts the oldest open one: idle or slow clients
 * cannot lock a signed delivery out (a real one takes milliseconds, so it is
 * never the oldest); the hard cap (`maxConnections`) refuses past the reserve.
 */
function limitConnections(server: Server, limits: Limits): void {
  server.maxConnections = limits.maxConnections;
  const evictAt = Math.max(1, limits.maxConnections - Math.max(1, Math.floor(limits.maxConnections / 8)));
  const open = new Set<Socket>(); // insertion order: oldest first
  const perHost = new Map<string, number>();
  const full = (address: string | undefined) => (perHost.get(hostKey(address ?? '')) ?? 0) >= limits.perAddress;
  server.once('listening', () => shedBeforeSocket(server, full));
  server.on('connection', (socket: Socket) => {
    const host = hostKey(socket.remoteAddress ?? '');
    if (full(socket.remoteAddress)) return void socket.destroy(); // only where shedBeforeSocket could not hook in
    perHost.set(host, (perHost.get(host) ?? 0) + 1);
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      const left = perHost.get(host)! - 1;
      if (left > 0) perHost.set(host, left);
      else perHost.delete(host);
    });
    while (open.size > evictAt) {
      const oldest = open.values().next().value!;
      open.delete(oldest);
      oldest.destroy();
    }
  });
}

interface ListenHandle {
  onconnection?: (err: number, client?: { getpeername(out: { address?: string }): number; close(): void }) => unknown;
}

/**
 * Closes a connection from a host already at its cap as it is accepted, before Node builds a socket and an
 * HTTP parser for it (as `maxConnections` does): a flood from one host then costs the trigger some 50 µs a
 * connection instead of 230 µs to take it in and evict another, so it drains the kernel's accept queue
 * (first in, first out) about as fast as one host fills it, and a delivery from another host, in that queue
 * behind the flood, waits milliseconds instead of seconds, and is never evicted by it. Node 20
 * has no public hook there: this wraps the listening handle's `onconnection`; without one, the 'connection'
 * listener above closes such a connection instead (the same cap, at the full cost).
 */
function shedBeforeSocket(server: Server, full: (address: string | undefined) => boolean): void {
  const handle = (server as unknown as { _handle?: ListenHandle })._handle;
  const accept = handle?.onconnection;
  if (!handle || typeof accept !== 'function') return;
  handle.onconnection = function (this: unknown, err, client) {
    const peer: { address?: string } = {};
    if (!err && client && client.getpeername(peer) === 0 && full(peer.address)) return void client.close();
    return accept.call(this, err, client);
  };
}

/** One host: an IPv4 address (IPv4-mapped IPv6 too), or the /64 of an IPv6 address (one host's usual share). */
export function hostKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail] = address.replace(/%.*$/, '').toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}

const HOOK_PATHS = /^\/(hooks\/trunk-updated|signals\/[^/]*)$/;

async function route(req: IncomingMessage, res: ServerResponse, h: Handlers, surface: Surface, readers: ReaderBudget): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://trigger.invalid');
  const method = req.method ?? 'GET';
  if (surface !== 'all' && HOOK_PATHS.test(url.pathname) !== (surface === 'hooks')) {
    req.resume();
    send(res, json(404, { error: 'not found' }));
    return;
  }
  const only = (allowed: string) => {
    if (method === allowed) return true;
    res.setHeader('allow', allowed);
    send(res, json(405, { error: `use ${allowed}` }));
    req.resume();
    return false;
  };
  if (url.pathname === '/hooks/trunk-updated') {
    if (!only('POST')) return;
    const body = await readBody(req, { maxBytes: MAX_BODY_BYTES });
    // Over the limit: answered at once, the rest read and discarded, so the client sees the 413 (src/http/body.ts).
    if (body.ok) send(res, h.hook(body.body, req.headers));
    else if (body.why !== 'aborted') refuse(req, res, reply(h.hookTooLarge(req.headers)));
    return;
  }
  const log = /^\/revisions\/([0-9a-f]+)\/log$/.exec(url.pathname);
  if (log) {
    if (only('GET')) send(res, h.log(log[1], url.searchParams.get('repository')));
    return;
  }
  // A revision is hex: anything else in the path is simply not a revision.
  const signal = /^\/signals\/([0-9A-Za-z]+)$/.exec(url.pathname);
  if (signal) {
    if (!only('POST')) return;
    const body = await readBody(req, { maxBytes: 4096 });
    if (body.ok) send(res, h.signal(signal[1], url.searchParams.get('token') ?? '', body.body.toString('utf8')));
    else if (body.why !== 'aborted') refuse(req, res, reply(json(413, { error: 'the report is over 4096 bytes' })));
    return;
  }
  if (url.pathname === '/') {
    if (!only('GET')) return;
    const page = statePage(url.searchParams);
    if (typeof page === 'string') return send(res, json(400, { error: page }));
    const body = await readers.run(() => h.page({ refresh: url.searchParams.get('refresh') !== '0', before: page.before }));
    send(res, body === null ? busy : { status: 200, body, type: 'text/html; charset=utf-8' });
    return;
  }
  if (url.pathname === '/api/state') {
    if (!only('GET')) return;
    const page = statePage(url.searchParams);
    if (typeof page === 'string') return send(res, json(400, { error: page }));
    send(res, (await readers.run(() => json(200, h.state(page)))) ?? busy);
    return;
  }
  if (url.pathname === '/metrics') {
    if (!only('GET')) return;
    const m = await h.metrics();
    send(res, { status: 200, body: m.body, type: m.type });
    return;
  }
  req.resume();
  send(res, json(404, { error: 'not found' }));
}

/** `?before=<seq>&limit=<n>` of /api/state, or what is wrong with them. */
function statePage(params: URLSearchParams): { before: number | null; limit: number | null } | string {
  const read = (name: string): number | null | string => {
    const text = params.get(name);
    if (text === null) return null;
    return /^[1-9]\d{0,15}$/.test(text) ? Number(text) : `${name} must be a positive integer`;
  };
  const before = read('before');
  const limit = read('limit');
  if (typeof before === 'string') return before;
  if (typeof limit === 'string') return limit;
  return { before, limit };
}

export { json };
