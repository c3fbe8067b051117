// Receiving `trunk-updated` (SPEC §4): Standard Webhooks verification against
// every configured secret (rotation), then the body's shape. The sender is
// landing's outbox; anything else is refused in words.
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';

/** Bodies over this size are refused (413) before they are read whole. */
export const MAX_BODY_BYTES = 64 * 1024;

export type Verification = { ok: true; id: string } | { ok: false; reason: string };

/** Secrets as configured: comma-separated, each a Standard Webhooks secret (`whsec_…`). */
export function parseSecrets(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Verify signature and timestamp (the library allows 5 minutes either way) with any of the secrets. */
export function verifyDelivery(body: Buffer, headers: Record<string, string | string[] | undefined>, secrets: readonly string[]): Verification {
  const flat: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const v = headers[name];
    if (typeof v === 'string') flat[name] = v;
  }
  if (!flat['webhook-id'] || !flat['webhook-timestamp'] || !flat['webhook-signature']) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  let last = 'no secret configured';
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(body, flat, { jsonParse: false });
      return { ok: true, id: flat['webhook-id'] };
    } catch (err) {
      last = (err as Error).message;
      // A stale or future timestamp fails the same way for every secret.
      if (/timestamp/i.test(last)) break;
    }
  }
  return { ok: false, reason: last };
}

const hexSha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, { error: 'expected a full commit SHA (40 or 64 lowercase hex digits)' });

export const TrunkUpdatedSchema = z.looseObject({
  type: z.literal('trunk-updated'),
  id: z.string().optional(),
  repository: z.string().min(1).max(200),
  branch: z.string().min(1).max(255),
  before: z.union([hexSha, z.null()]).optional(),
  after: hexSha,
  landed_at: z.string().optional(),
});

export type TrunkUpdated = z.output<typeof TrunkUpdatedSchema>;

export type Parsed = { ok: true; event: TrunkUpdated } | { ok: false; reason: string };

export function parseTrunkUpdated(body: Buffer): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  const result = TrunkUpdatedSchema.safeParse(json);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0];
  return { ok: false, reason: `${issue.path.join('.') || 'body'}: ${issue.message}` };
}

/** How much of a pull request's text is kept and shown (it is the author's, untrusted). */
const MAX_TITLE = 300;
const MAX_PULLS = 20;

const PullSchema = z.looseObject({
  number: z.number().int().positive(),
  title: z.string(),
  url: z.string(),
  author: z.string(),
});

export interface LandedPull {
  number: number;
  title: string;
  url: string;
  author: string;
}

/**
 * The pull requests that landed the event's revision (`pull_request`, and
 * `pull_requests` when a queue landed several), for display only: a missing or
 * malformed one is skipped, never a reason to refuse the delivery. Text is
 * clipped; a URL that is not http(s) is dropped, so it never becomes a link.
 */
export function landedPulls(event: TrunkUpdated): LandedPull[] {
  const raw = [event.pull_request, ...(Array.isArray(event.pull_requests) ? event.pull_requests : [])];
  const seen = new Map<number, LandedPull>();
  for (const candidate of raw) {
    const parsed = PullSchema.safeParse(candidate);
    if (!parsed.success || seen.has(parsed.data.number)) continue;
    const p = parsed.data;
    seen.set(p.number, { number: p.number, title: p.title.slice(0, MAX_TITLE), url: /^https?:\/\//i.test(p.url) ? p.url.slice(0, 500) : '', author: p.author.slice(0, 100) });
    if (seen.size >= MAX_PULLS) break;
  }
  return [...seen.values()];
}
