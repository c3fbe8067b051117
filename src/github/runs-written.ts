// The check runs this process wrote: the ones it created, by repository and
// head SHA (GitHub may not list a run just created: read-after-write lag), and
// the run each pull request's last write went to (what landing updates, and
// what a give-up marks when GitHub cannot even be read).
import { pullKey, type PullRef } from './pull-ref.js';

/** Created runs remembered, oldest dropped first. */
const CREATED_MAX = 10_000;

export class RunsWritten {
  private readonly created = new Map<string, number>();
  private readonly lastRun = new Map<string, { headSha: string; id: number }>();

  /** A run this process created on the head, if any. */
  createdOn(ref: PullRef, headSha: string): number | null {
    return this.created.get(createdKey(ref, headSha)) ?? null;
  }

  /** A write to run `id` on `headSha`; `created`: a run GitHub did not list before. */
  wrote(ref: PullRef, headSha: string, id: number, created: boolean): void {
    if (created) {
      this.created.set(createdKey(ref, headSha), id);
      if (this.created.size > CREATED_MAX) this.created.delete(this.created.keys().next().value!);
    }
    this.lastRun.set(pullKey(ref), { headSha, id });
  }

  /** The run the pull request's last write went to. */
  last(key: string): { headSha: string; id: number } | undefined {
    return this.lastRun.get(key);
  }

  /** Our run on `headSha` as this process last wrote it (null: not known). */
  on(key: string, headSha: string): number | null {
    const last = this.lastRun.get(key);
    return last?.headSha === headSha ? last.id : null;
  }

  forget(key: string): void {
    this.lastRun.delete(key);
  }
}

function createdKey(ref: PullRef, headSha: string): string {
  return `${ref.owner}/${ref.repo}@${headSha}`.toLowerCase();
}
