// Sends a signed trunk-updated event to a deploy trigger, the way merge-gate's
// landing does (Standard Webhooks, secret from TRUNK_WEBHOOK_SECRET).
//   node examples/service/announce.mjs http://127.0.0.1:8787 octo/service main <sha>
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const [base, repository, branch, after] = process.argv.slice(2);
if (!after) {
  console.error('usage: node announce.mjs TRIGGER_URL OWNER/NAME BRANCH SHA');
  process.exit(2);
}
const body = JSON.stringify({ type: 'trunk-updated', id: randomUUID(), repository, branch, before: null, after, landed_at: new Date().toISOString() });
const id = `msg_${randomUUID()}`;
const now = new Date();
const signature = new Webhook(process.env.TRUNK_WEBHOOK_SECRET ?? '').sign(id, now, body);
const res = await fetch(`${base}/hooks/trunk-updated`, {
  method: 'POST',
  body,
  headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature },
});
console.log(res.status, await res.text());
