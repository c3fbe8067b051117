// What stays true of a pull request while its base and head stay put: kept between evaluations, so a re-evaluation costs no second read.
import type { ChangedFile, FileDiff } from '../facts/types.js';

/** What stays true of a pull request while its base and head SHAs stay the same. */
export interface CachedFacts {
  files?: ChangedFile[];
  diff?: FileDiff[];
}

/**
 * Changed files and diffs by pull request, base SHA and head SHA: a
 * re-evaluation of an unchanged pull request (a label, a review, a status)
 * reads neither again. Least recently used entries go first, past a budget of
 * files plus diff lines.
 */
export class FactsCache {
  private readonly map = new Map<string, { facts: CachedFacts; weight: number }>();
  private weight = 0;
  constructor(private readonly maxWeight = 1_000_000) {}

  static key(facts: { repository: string; number: number; base: { sha: string }; head: { sha: string } }): string {
    return `${facts.repository}#${facts.number}@${facts.base.sha}..${facts.head.sha}`;
  }

  get(key: string): CachedFacts | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.facts;
  }

  update(key: string, more: CachedFacts): void {
    const old = this.map.get(key);
    const facts = { ...old?.facts, ...more };
    const weight = (facts.files?.length ?? 0) + (facts.diff?.reduce((n, f) => n + f.lines.length + 1, 0) ?? 0);
    if (old) {
      this.weight -= old.weight;
      this.map.delete(key);
    }
    if (weight > this.maxWeight) return;
    this.map.set(key, { facts, weight });
    this.weight += weight;
    for (const [k, v] of this.map) {
      if (this.weight <= this.maxWeight) break;
      this.map.delete(k);
      this.weight -= v.weight;
    }
  }
}
