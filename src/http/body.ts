// Request bodies from whoever can reach a port: read under limits, and refused
// so that the client sees the answer. Shared by the app's webhook guard
// (src/github/webhook-bodies.ts) and the deploy trigger (src/deploy/server.ts).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { systemTimers, type Timers } from '../clock.js';

export type BodyRead =
  | { ok: true; body: Buffer }
  /** too-large: over `maxBytes` (declared or counted); refused: `take` said no; timeout: not whole in time; aborted: the client went away. */
  | { ok: false; why: 'too-large' | 'refused' | 'timeout' | 'aborted'; bytes: number };

export interface ReadLimits {
  maxBytes: number;
  /** The whole body within this long (none: no deadline). */
  timeoutMs?: number;
  timers?: Timers;
  /** Asked before each chunk is kept (a budget several bodies share); false stops the read. */
  take?: (bytes: number) => boolean;
}

/** The Content-Length the client declared, or null (chunked, or not a number). */
export function declaredLength(req: IncomingMessage): number | null {
  const text = req.headers['content-length'];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

/**
 * Reads the body, keeping at most `maxBytes`: a declared length over it is
 * refused before a byte is read; a body without one (chunked) is counted as it
 * comes. On any refusal the chunks read so far are dropped at once and the rest
 * is left to `refuse` (below) to discard.
 */
export function readBody(req: IncomingMessage, limits: ReadLimits): Promise<BodyRead> {
  const declared = declaredLength(req);
  if (declared !== null && declared > limits.maxBytes) return Promise.resolve({ ok: false, why: 'too-large', bytes: 0 });
  const timers = limits.timers ?? systemTimers;
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let bytes = 0;
    let timer: unknown = null;
    const stop = (result: BodyRead) => {
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      if (timer !== null) timers.clearTimeout(timer);
      chunks = [];
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) return stop({ ok: false, why: 'too-large', bytes });
      if (limits.take && !limits.take(chunk.length)) return stop({ ok: false, why: 'refused', bytes });
      chunks.push(chunk);
    };
    const onEnd = () => {
      const body = Buffer.concat(chunks);
      stop({ ok: true, body });
    };
    const onAbort = () => stop({ ok: false, why: 'aborted', bytes });
    if (limits.timeoutMs !== undefined) timer = timers.setTimeout(() => stop({ ok: false, why: 'timeout', bytes }), limits.timeoutMs);
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort);
  });
}

export interface Refusal {
  status: number;
  headers?: OutgoingHttpHeaders;
  body: string;
}

/** How long `refuse` goes on discarding a body before it closes the connection anyway. */
export const DRAIN_MS = 10_000;

/**
 * Answers now, whatever is left of the body, then reads and discards the rest
 * before closing the connection (for at most `drainMs`). Closing with unread
 * bytes makes the kernel reset the connection, and a client still sending
 * would see the reset instead of the answer; discarding costs no memory.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal, options: { drainMs?: number; timers?: Timers } = {}): void {
  const timers = options.timers ?? systemTimers;
  const body = Buffer.from(refusal.body);
  res.writeHead(refusal.status, { ...refusal.headers, 'content-length': body.length, connection: 'close' });
  // Written whole, ended later: the client has the complete answer now; Node closes the socket once it ends.
  res.write(body);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    timers.clearTimeout(timer);
    res.end();
  };
  const timer = timers.setTimeout(() => {
    end();
    req.destroy();
  }, options.drainMs ?? DRAIN_MS);
  if (req.readableEnded || req.destroyed) return end();
  req.once('end', end).once('close', end).once('error', end);
  req.resume();
}
