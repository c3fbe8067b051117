// What each pull request's check shows as this process last wrote it, and the
// verdict it came from: enough to decorate the verdict's plan again when only
// the merge queue's word changed (a position, a batch, what it waits for),
// without an evaluation (docs/queue.md "What a batch costs GitHub"). Memory
// only: after a restart, or once anything but a successful evaluation touched
// the check (an evaluation that failed, a give-up), there is none and the
// caller evaluates instead.
import type { PullRequestFacts } from '../facts/types.js';
import type { Policy } from '../policy/schema.js';
import type { CheckRunPlan } from './checkrun.js';
import type { PullRef } from './pull-ref.js';

export interface CheckShown {
  ref: PullRef;
  facts: PullRequestFacts;
  /** The policy of a passing verdict (its plan is decorated); null: any other verdict, shown as planned. */
  pass: Policy | null;
  /** The verdict's plan, and the plan as written on run `id` (decorated). */
  plan: CheckRunPlan;
  shown: CheckRunPlan;
  id: number;
}

/** Pull requests remembered, at most (the oldest go first). */
const SHOWN_LIMIT = 10_000;

export class ChecksShown {
  private readonly shown = new Map<string, CheckShown>();

  get(key: string): CheckShown | undefined {
    return this.shown.get(key);
  }

  set(key: string, record: CheckShown): void {
    this.shown.delete(key);
    this.shown.set(key, record);
    if (this.shown.size > SHOWN_LIMIT) this.shown.delete(this.shown.keys().next().value!);
  }

  forget(key: string): void {
    this.shown.delete(key);
  }
}
