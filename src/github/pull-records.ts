// What the gate remembers of each pull request between evaluations, by queue
// key; all of it is dropped when the pull request closes.
import type { PullRef } from './pull-ref.js';

export class PullRecords {
  private readonly refs = new Map<string, PullRef>();
  /** Pull requests whose next evaluation looks for a leftover check when there is no policy (kept until one succeeds). */
  private readonly leftover = new Set<string>();
  /** Pull requests whose last policy read found a policy (ok or with errors). */
  private readonly governed = new Set<string>();

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

  forget(key: string): void {
    this.refs.delete(key);
    this.leftover.delete(key);
    this.governed.delete(key);
  }
}
