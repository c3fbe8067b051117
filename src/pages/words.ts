// Small pieces of text both pages use: a duration in words, a short SHA, an
// outcome in words and a symbol (never colour alone), a pull request's path.
import type { Outcome } from '../rules/types.js';
import { html, type SafeHtml } from './html.js';

/** `40 s`, `12 min`, `2 h 5 min`, `3 days`: how long, for people (rounded down). */
export function durationWords(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

/** The 7 characters GitHub shows of a commit. */
export const shortSha = (sha: string | null): string => (sha ? sha.slice(0, 7) : '—');

// Symbols any system font has (the check's emoji may be missing from a server's fonts); the word is always beside them.
const SYMBOL: Record<Outcome, string> = { pass: '✓', fail: '✗', wait: '…', skip: '–' };

/** An outcome as a symbol and its word, coloured by class as well. */
export function outcomeTag(outcome: Outcome): SafeHtml {
  return html`<span class="${outcome === 'skip' ? 'skip-outcome' : outcome}"><span aria-hidden="true">${SYMBOL[outcome]}</span> ${outcome}</span>`;
}

/** yes/no with a symbol. */
export const yesNo = (value: boolean): SafeHtml => html`<span class="${value ? 'pass' : 'fail'}"><span aria-hidden="true">${value ? '✓' : '✗'}</span> ${value ? 'yes' : 'no'}</span>`;

/** `/pulls/<owner>/<repo>/`: where a repository's pull requests have their pages on this app. */
export function pullsPrefix(repository: string): string {
  return `/pulls/${repository.split('/').map(encodeURIComponent).join('/')}/`;
}

/** `/pulls/<owner>/<repo>/<number>`: the pull request's page on this app (its check run's details_url). */
export const pullPath = (repository: string, number: number): string => `${pullsPrefix(repository)}${number}`;
