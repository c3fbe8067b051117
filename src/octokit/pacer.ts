// GitHub's pacing, per installation: content-creating requests (POST, PATCH,
// PUT, DELETE, GraphQL mutations) one at a time and at least a second apart
// (so never more than 60 a minute, under GitHub's 80); reads are not spaced
// (GraphQL queries spend points from their own budget), only capped in
// number at once. Writes that change what a person sees go before writes
// that only refresh details. When GitHub says to wait — a secondary limit's
// `retry-after`, or a primary budget at 0 until `x-ratelimit-reset` — the
// installation's requests wait that long (all of them for a secondary limit;
// those of the exhausted budget for a primary one). Time is injected.
import type { Clock, TimerHandle, Timers } from '../clock.js';

/** Which budget a request spends: REST's core, or GraphQL's points. */
export type Resource = 'core' | 'graphql';

export interface PacedRequest {
  /** Content-creating: spaced and one at a time. */
  write: boolean;
  resource: Resource;
  /** Writes only: -1 goes first (the merge call), 0 changes what a person sees (the default), 1 only refreshes details. */
  priority?: number;
}

export interface PacerOptions {
  /** Between the starts of two writes of one installation. */
  writeSpacingMs: number;
  /** Requests of one installation in flight at once, reads and writes together. */
  maxConcurrent: number;
  /** Wait after a secondary limit that names no retry-after (what GitHub's docs advise: a minute). */
  fallbackRetryAfterMs: number;
  clock: Clock;
  timers: Timers;
}

/** A request's `request` option for a write that only refreshes details (same status, conclusion and title): it may wait behind writes that change what a person sees. */
export const DETAILS_ONLY = { mergeGatePace: 'details' } as const;

/** A request's `request` option for a write that must not wait behind others (the merge call: the verdict it rests on was re-read just before). */
export const URGENT = { mergeGatePace: 'urgent' } as const;

export const PACING_DEFAULTS = { writeSpacingMs: 1_000, maxConcurrent: 10, fallbackRetryAfterMs: 60_000 } as const;

interface Waiter {
  request: PacedRequest;
  seq: number;
  start: () => void;
}

interface Lane {
  inFlight: number;
  writing: boolean;
  lastWriteAt: number;
  reads: Waiter[];
  writes: Waiter[];
  /** Resource (or '*', everything) → held until this instant (ms). */
  held: Map<Resource | '*', number>;
  timer: TimerHandle | null;
  timerAt: number;
}

/** What a response (or an error's response) says about waiting; pure, for the pacer and its tests. */
export function advisedHold(
  response: { status?: number; headers?: Record<string, unknown>; message?: string } | undefined,
  resource: Resource,
  nowMs: number,
  fallbackRetryAfterMs: number,
): { scope: Resource | '*'; until: number } | null {
  if (!response) return null;
  const header = (name: string) => {
    const v = response.headers?.[name];
    return v === undefined || v === null ? undefined : String(v);
  };
  const status = response.status ?? 0;
  const retryAfter = header('retry-after');
  if ((status === 403 || status === 429) && retryAfter !== undefined && /^\d+$/.test(retryAfter)) {
    return { scope: '*', until: nowMs + Number(retryAfter) * 1000 };
  }
  if (header('x-ratelimit-remaining') === '0') {
    const reset = header('x-ratelimit-reset');
    const scope = header('x-ratelimit-resource') === 'graphql' ? 'graphql' : header('x-ratelimit-resource') === 'core' ? 'core' : resource;
    if (reset !== undefined && /^\d+$/.test(reset)) return { scope, until: Math.max(nowMs, Number(reset) * 1000 + 1000) };
  }
  if ((status === 403 || status === 429) && /secondary rate/i.test(response.message ?? '')) {
    return { scope: '*', until: nowMs + fallbackRetryAfterMs };
  }
  return null;
}

export class Pacer {
  private readonly lanes = new Map<string, Lane>();
  private seq = 0;

  constructor(private readonly options: PacerOptions) {}

  /** Runs `fn` for installation `key` when the pacing allows; what it answers (or throws) may hold the installation. */
  async run<T>(key: string, request: PacedRequest, fn: () => Promise<T>): Promise<T> {
    const lane = this.lane(key);
    await new Promise<void>((start) => {
      (request.write ? lane.writes : lane.reads).push({ request, seq: ++this.seq, start });
      if (request.write) lane.writes.sort((a, b) => (a.request.priority ?? 0) - (b.request.priority ?? 0) || a.seq - b.seq);
      this.pump(key, lane);
    });
    try {
      const result = await fn();
      this.observe(lane, request, result as { status?: number; headers?: Record<string, unknown> });
      return result;
    } catch (error) {
      const err = error as { status?: number; message?: string; response?: { headers?: Record<string, unknown> } };
      this.observe(lane, request, { status: err.status, headers: err.response?.headers, message: err.message });
      throw error;
    } finally {
      lane.inFlight--;
      if (request.write) lane.writing = false;
      this.pump(key, lane);
    }
  }

  /** Writes waiting for their turn, over all installations (for tests and the bench). */
  get waitingWrites(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.writes.length;
    return n;
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { inFlight: 0, writing: false, lastWriteAt: -Infinity, reads: [], writes: [], held: new Map(), timer: null, timerAt: Infinity };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private heldUntil(lane: Lane, resource: Resource, now: number): number {
    const until = Math.max(lane.held.get('*') ?? 0, lane.held.get(resource) ?? 0);
    return until > now ? until : 0;
  }

  private observe(lane: Lane, request: PacedRequest, response: { status?: number; headers?: Record<string, unknown>; message?: string }): void {
    const now = this.options.clock.now().getTime();
    const hold = advisedHold(response, request.resource, now, this.options.fallbackRetryAfterMs);
    if (hold && hold.until > (lane.held.get(hold.scope) ?? 0)) lane.held.set(hold.scope, hold.until);
  }

  private pump(key: string, lane: Lane): void {
    const now = this.options.clock.now().getTime();
    let wakeAt = Infinity;
    // Reads: in order, as slots allow; one held by a limit does not stop the others.
    for (let i = 0; i < lane.reads.length && lane.inFlight < this.options.maxConcurrent; ) {
      const held = this.heldUntil(lane, lane.reads[i].request.resource, now);
      if (held) {
        wakeAt = Math.min(wakeAt, held);
        i++;
        continue;
      }
      const [waiter] = lane.reads.splice(i, 1);
      lane.inFlight++;
      waiter.start();
    }
    // Writes: the first in priority order, once the previous one is done and spaced.
    if (!lane.writing && lane.writes.length > 0 && lane.inFlight < this.options.maxConcurrent) {
      const next = lane.writes[0];
      const due = Math.max(lane.lastWriteAt + this.options.writeSpacingMs, this.heldUntil(lane, next.request.resource, now));
      if (due <= now) {
        lane.writes.shift();
        lane.inFlight++;
        lane.writing = true;
        lane.lastWriteAt = now;
        next.start();
      } else {
        wakeAt = Math.min(wakeAt, due);
      }
    }
    this.arm(key, lane, wakeAt, now);
    if (lane.inFlight === 0 && lane.reads.length === 0 && lane.writes.length === 0 && lane.timer === null && now - lane.lastWriteAt >= this.options.writeSpacingMs && !this.heldUntil(lane, 'core', now) && !this.heldUntil(lane, 'graphql', now)) {
      this.lanes.delete(key); // nothing to remember
    }
  }

  private arm(key: string, lane: Lane, at: number, now: number): void {
    if (at === Infinity || (lane.timer !== null && lane.timerAt <= at)) return;
    if (lane.timer !== null) this.options.timers.clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = this.options.timers.setTimeout(() => {
      lane.timer = null;
      lane.timerAt = Infinity;
      this.pump(key, lane);
    }, at - now);
  }
}
