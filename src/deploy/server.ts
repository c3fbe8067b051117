// The trigger's HTTP surface, translation only: routes, body limits, status codes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readBody, refuse } from '../http/body.js';
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
  /** The status page; `refresh: false` for GET /?refresh=0. */
  page(options: { refresh: boolean }): string;
  state(): unknown;
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

export function triggerServer(handlers: Handlers, onError: (err: unknown) => void): Server {
  return createServer((req, res) => {
    route(req, res, handlers).catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) send(res, json(500, { error: 'internal error' }));
      else res.end();
    });
  });
}

async function route(req: IncomingMessage, res: ServerResponse, h: Handlers): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://trigger.invalid');
  const method = req.method ?? 'GET';
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
    if (only('GET')) send(res, { status: 200, body: h.page({ refresh: url.searchParams.get('refresh') !== '0' }), type: 'text/html; charset=utf-8' });
    return;
  }
  if (url.pathname === '/api/state') {
    if (only('GET')) send(res, json(200, h.state()));
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

export { json };
