// The pages' figures in the app's /metrics (src/metrics/app.ts builds the
// registry): sign-ins, sign-in failures by reason, page views by page. Every
// label shown from the start (0 included), so an alert can compare.
import { Counter, type Registry } from 'prom-client';

export const SIGN_IN_FAILURES = ['state', 'denied', 'exchange', 'user'] as const;
export type SignInFailure = (typeof SIGN_IN_FAILURES)[number];
export const PAGES = ['queue', 'api_queue', 'pull'] as const;
export type PageName = (typeof PAGES)[number];

export interface PagesMetrics {
  signIn(): void;
  signInFailure(reason: SignInFailure): void;
  view(page: PageName): void;
  /** One request to GitHub asking what a person may read (what a page view costs; 0 while the answers are remembered). */
  accessRequest(): void;
}

export function pagesMetrics(registry: Registry): PagesMetrics {
  const signIns = new Counter({ name: 'merge_gate_pages_sign_ins_total', help: 'People signed in to the pages with GitHub', registers: [registry] });
  const failures = new Counter({
    name: 'merge_gate_pages_sign_in_failures_total',
    help: 'Sign-ins refused, by reason (state: missing, wrong or expired state; denied: the person said no on GitHub; exchange: GitHub refused the code; user: GitHub did not say who)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const views = new Counter({ name: 'merge_gate_pages_views_total', help: 'Pages shown to signed-in people, by page', labelNames: ['page'], registers: [registry] });
  const access = new Counter({
    name: 'merge_gate_pages_access_requests_total',
    help: 'Requests to GitHub asking what a signed-in person may read (GET /repos/{owner}/{repo} with their token); none while the answers are remembered',
    registers: [registry],
  });
  for (const reason of SIGN_IN_FAILURES) failures.inc({ reason }, 0);
  for (const page of PAGES) views.inc({ page }, 0);
  return {
    signIn: () => signIns.inc(),
    signInFailure: (reason) => failures.inc({ reason }),
    view: (page) => views.inc({ page }),
    accessRequest: () => access.inc(),
  };
}
