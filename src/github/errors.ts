// What went wrong talking to GitHub, and whether trying again later can help.
// Fail closed: an error never turns into a pass. Retryable errors leave the
// previous check run alone and the evaluation is retried; errors that will not
// go away on their own, and that we can put into words, become a failure check.

/** A problem merge-gate can explain on the check run; retrying will not fix it. */
export class ExplainedError extends Error {
  override name = 'ExplainedError';
}

/** The pull request changed under us between two reads: evaluate again. */
export class StaleReadError extends Error {
  override name = 'StaleReadError';
}

export interface ErrorClass {
  retryable: boolean;
  /** GitHub's own advice (retry-after, rate-limit reset), in milliseconds from now. */
  retryAfterMs?: number;
  /** Words for the check run when the error is not retryable. */
  explanation?: string;
}

interface HttpLikeError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  errors?: Array<{ type?: string; message?: string }>;
}

function header(err: HttpLikeError, name: string): string | undefined {
  const value = err.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

function advisedDelay(err: HttpLikeError, now: Date): number | undefined {
  const retryAfter = header(err, 'retry-after');
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const reset = header(err, 'x-ratelimit-reset');
  if (reset !== undefined && /^\d+$/.test(reset) && header(err, 'x-ratelimit-remaining') === '0') {
    return Math.max(0, Number(reset) * 1000 - now.getTime()) + 1000;
  }
  return undefined;
}

const RATE_LIMIT = /rate limit|abuse|secondary/i;

export function classifyError(error: unknown, now: Date = new Date()): ErrorClass {
  if (error instanceof ExplainedError) return { retryable: false, explanation: error.message };
  if (error instanceof StaleReadError) return { retryable: true, retryAfterMs: 0 };
  const err = (error ?? {}) as HttpLikeError;
  // GraphQL answers 200 with `errors`; octokit raises GraphqlResponseError.
  if (Array.isArray(err.errors) && err.status === undefined) {
    const types = err.errors.map((e) => e.type ?? '');
    if (types.some((t) => t === 'RATE_LIMITED')) return { retryable: true, retryAfterMs: advisedDelay(err, now) };
    const permanent = types.filter((t) => ['NOT_FOUND', 'FORBIDDEN', 'UNPROCESSABLE'].includes(t));
    if (permanent.length > 0 && permanent.length === types.length) {
      return { retryable: false, explanation: `GitHub refused the query: ${err.errors.map((e) => e.message).join('; ')}` };
    }
    // "Something went wrong while executing your query", timeouts: GitHub's side.
    return { retryable: true };
  }
  const status = err.status;
  if (typeof status !== 'number') return { retryable: true }; // network trouble, or a bug we cannot name: try again
  if (status >= 500 || status === 429) return { retryable: true, retryAfterMs: advisedDelay(err, now) };
  if (status === 403 && (header(err, 'x-ratelimit-remaining') === '0' || RATE_LIMIT.test(err.message ?? ''))) {
    return { retryable: true, retryAfterMs: advisedDelay(err, now) };
  }
  const what = status === 403 ? 'merge-gate lacks a permission it needs' : status === 404 ? 'not found' : `HTTP ${status}`;
  return { retryable: false, explanation: `GitHub answered ${status} (${what}): ${err.message ?? ''}`.trim() };
}
