// Conditional reads: a file read through the contents API (the policy, its
// `_extends`, the organisation's fallback) is asked for again with the ETag
// of the last answer; an unchanged file comes back 304, which GitHub does not
// count against the rate limit, and the remembered answer is used. Only the
// contents API: those answers are small and re-read on every evaluation.
import type { Octokit } from './types.js';

interface Remembered {
  etag: string;
  response: unknown;
}

/** Least recently used answers, by installation, URL and media type. */
export class ConditionalCache {
  private readonly map = new Map<string, Remembered>();
  constructor(private readonly maxEntries = 2_000) {}

  get(key: string): Remembered | undefined {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Remembered): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

/** Answers larger than this are not remembered (a policy is a few kilobytes). */
const MAX_REMEMBERED = 256 * 1024;

const CONTENTS = /^\/repos\/\{owner\}\/\{repo\}\/contents\/\{path\}$|^\/repos\/[^/]+\/[^/]+\/contents\//;

export function conditionalReads(octokit: Octokit, cache: ConditionalCache, scope: string): void {
  octokit.hook.wrap('request', async (request, options) => {
    if (options.method !== 'GET' || !CONTENTS.test(String(options.url))) return request(options);
    const { url, headers } = octokit.request.endpoint.parse(options);
    const key = `${scope} ${url} ${headers.accept ?? ''}`;
    const known = cache.get(key);
    // In place: a wrap hook's inner request is bound to this very options object.
    if (known) options.headers['if-none-match'] = known.etag;
    try {
      const response = await request(options);
      const etag = response.headers.etag;
      const size = typeof response.data === 'string' ? response.data.length : JSON.stringify(response.data ?? null).length;
      if (etag && size <= MAX_REMEMBERED) cache.set(key, { etag, response });
      else cache.delete(key);
      return response;
    } catch (error) {
      if (known && (error as { status?: number }).status === 304) return known.response as Awaited<ReturnType<typeof request>>;
      if ((error as { status?: number }).status === 404) cache.delete(key);
      throw error;
    }
  });
}
