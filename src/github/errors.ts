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

/** The pull request does not exist (any more), or is out of the app's reach. */
export class PullGoneError extends ExplainedError {
  override name = 'PullGoneError';
}

/**
 * The verdict was written, and what came after it (the landing hook) failed.
 * Retried like its cause, but the check already says what the verdict is: it
 * is not overwritten with "could not evaluate".
 */
export class AfterVerdictError extends Error {
  override name = 'AfterVerdictError';
  constructor(override readonly cause: unknown) {
    super(`after the verdict: ${(cause as Error)?.message ?? String(cause)}`);
  }
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
  if (error instanceof AfterVerdictError) return classifyError(error.cause, now);
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

/** What went wrong, in words for a check run: the explanation when there is one, else what GitHub answered. */
export function describeError(error: unknown, now: Date = new Date()): string {
  const cls = classifyError(error, now);
  if (cls.explanation) return cls.explanation;
  if (error instanceof AfterVerdictError) return describeError(error.cause, now);
  if (error instanceof StaleReadError) return `the pull request kept changing while it was read (${error.message})`;
  const err = (error ?? {}) as HttpLikeError;
  const message = (err.message ?? String(error)).trim();
  if (Array.isArray(err.errors) && err.status === undefined) {
    const types = err.errors.map((e) => e.type ?? '');
    const what = types.includes('RATE_LIMITED') ? ' (rate limited)' : '';
    return `GitHub's GraphQL API kept failing${what}: ${err.errors.map((e) => e.message).join('; ')}`;
  }
  if (typeof err.status === 'number') {
    const what = err.status >= 500 ? ' (an error on GitHub\'s side)' : ' (rate limited)';
    return `GitHub kept answering ${err.status}${what}: ${message}`;
  }
  return `GitHub could not be reached or answered in a way merge-gate did not expect: ${message}`;
}

/** The pull request (or its repository) is gone: trying again later cannot help. */
export function isGone(error: unknown): boolean {
  if (error instanceof PullGoneError) return true;
  const err = (error ?? {}) as HttpLikeError;
  if (Array.isArray(err.errors) && err.status === undefined) return err.errors.length > 0 && err.errors.every((e) => e.type === 'NOT_FOUND');
  return err.status === 404;
}
