// Delivery over HTTP, signed by the Standard Webhooks library: `webhook-id`
// (the event's id, the same on every attempt), `webhook-timestamp` (this
// attempt's time, so a receiver's staleness check holds for a retry hours
// later) and `webhook-signature`.
import { Webhook } from 'standardwebhooks';
import type { Clock, Timers } from '../clock.js';
import type { Delivery, Transport } from './outbox.js';

export interface HttpTransportOptions {
  /** A Standard Webhooks secret: `whsec_` followed by base64. */
  secret: string;
  clock: Clock;
  timers: Timers;
  /** An attempt that takes longer is abandoned and retried. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The headers of one attempt. */
export function signedHeaders(webhook: Webhook, delivery: Pick<Delivery, 'eventId' | 'body'>, at: Date): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'merge-gate',
    'webhook-id': delivery.eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': webhook.sign(delivery.eventId, at, delivery.body),
  };
}

export function httpTransport(options: HttpTransportOptions): Transport {
  const webhook = new Webhook(options.secret);
  const doFetch = options.fetch ?? fetch;
  return async (delivery) => {
    const controller = new AbortController();
    const timer = options.timers.setTimeout(() => controller.abort(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
    try {
      const res = await doFetch(delivery.target, {
        method: 'POST',
        headers: signedHeaders(webhook, delivery, options.clock.now()),
        body: delivery.body,
        signal: controller.signal,
        redirect: 'error',
      });
      // Read (and drop) the body so the connection can be reused.
      const text = await res.text().catch(() => '');
      return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
    } finally {
      options.timers.clearTimeout(timer);
    }
  };
}

/** Is this a usable Standard Webhooks secret? (The library accepts more; the spec asks for `whsec_` + base64.) */
export function secretProblem(secret: string): string | null {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) return 'expected a Standard Webhooks secret: whsec_ followed by base64';
  try {
    new Webhook(secret);
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}
