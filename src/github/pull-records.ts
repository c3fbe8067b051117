// What the gate remembers of each pull request between evaluations, by queue
// key; all of it is dropped when the pull request closes.
import type { PullRef } from './pull-ref.js';

const CAUSES_KEPT = 8;

export class PullRecords {
  private readonly refs = new Map<string, PullRef>();
  /** Pull requests whose next evaluation looks for a leftover check when there is no policy (kept until one succeeds). */
  private readonly leftover = new Set<string>();
  /** Pull requests whose last policy read found a policy (ok or with errors). */
  private readonly governed = new Set<string>();
  /** What asked for the next evaluation (webhook names, `timer`, …), until it runs. */
  private readonly causes = new Map<string, string[]>();

  remember(key: string, ref: PullRef): void {
    this.refs.set(key, ref);
  }

  /** The pull request of `key`, unless forgotten (closed) or never asked for. */
  ref(key: string): PullRef | undefined {
    return this.refs.get(key);
  }

  markLeftover(key: string): void {
    this.leftover.add(key);
  }

  /** Whether the next evaluation looks for a leftover check; cleared (markLeftover puts it back for a retry). */
  takeLeftover(key: string): boolean {
    return this.leftover.delete(key);
  }

  setGoverned(key: string, governed: boolean): void {
    if (governed) this.governed.add(key);
    else this.governed.delete(key);
  }

  isGoverned(key: string): boolean {
    return this.governed.has(key);
  }

  /** Requests that coalesce collect their causes: deduplicated, the latest few kept. */
  noteCauses(key: string, causes: readonly string[]): void {
    if (causes.length === 0 || !this.refs.has(key)) return;
    const all = [...new Set([...(this.causes.get(key) ?? []), ...causes])];
    this.causes.set(key, all.slice(Math.max(0, all.length - CAUSES_KEPT)));
  }

  /** The causes of the evaluation starting now (noteCauses puts them back for a retry). */
  takeCauses(key: string): string[] {
    const causes = this.causes.get(key) ?? [];
    this.causes.delete(key);
    return causes;
  }

  forget(key: string): void {
    this.causes.delete(key);
    this.refs.delete(key);
    this.leftover.delete(key);
    this.governed.delete(key);
  }
}
