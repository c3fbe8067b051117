// The `merge-gate` check run (SPEC §3): one per head commit, created once and
// then updated, never rewritten when nothing changed. The verdict is rendered
// by the shared renderer, so the check says what `merge-gate check` prints.
import { markdownDetail, renderMarkdown } from '../render.js';
import type { RuleResult, Verdict } from '../rules/types.js';
import type { ExistingCheckRun } from './nodes.js';
import type { Octokit } from '../octokit/types.js';
import { DETAILS_ONLY } from '../octokit/pacer.js';

/** GitHub's limit for summary and text. Counted in UTF-8 bytes here, which is never more lenient. */
export const OUTPUT_LIMIT = 65_535;
export const TITLE_LIMIT = 1_000;
/** Annotations per request (Checks API). */
export const ANNOTATION_BATCH = 50;
/**
 * Annotations per check run write, at most: each batch of 50 costs a request,
 * so 5,000 flag violations would otherwise be 100 PATCHes. The text says how
 * many were left out (and still lists them, up to its own limit).
 */
export const ANNOTATION_LIMIT = 250;

export type Conclusion = 'success' | 'failure' | 'action_required' | 'skipped';

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title: string;
}

export interface CheckRunPlan {
  status: 'in_progress' | 'completed';
  conclusion: Conclusion | null;
  title: string;
  summary: string;
  text: string;
  /** Carries the next instant time alone changes the verdict, so a restarted app can re-arm its timer. */
  externalId: string;
  detailsUrl: string | null;
  annotations: Annotation[];
}

export interface PlanOptions {
  dryRun: boolean;
  /** The pull request's page: where a person acts on an action_required check. */
  pullRequestUrl: string;
  /** The policy file path; policy errors elsewhere (presets, another repository) are not annotated. */
  policyPath: string;
  /** The pull request's page on the app's own pages (SPEC §7): the link of every verdict when set. */
  pullPageUrl?: string | null;
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** Cut `text` at a line boundary so it stays within `limit` bytes, saying how many lines were cut. */
export function fitOutput(text: string, limit = OUTPUT_LIMIT): string {
  if (byteLength(text) <= limit) return text;
  const lines = text.split('\n');
  let used = 0;
  let kept = 0;
  for (; kept < lines.length; kept++) {
    const cost = byteLength(lines[kept]) + 1;
    const notice = byteLength(`\n… ${lines.length - kept - 1} more lines cut`) + 16;
    if (used + cost + notice > limit) break;
    used += cost;
  }
  if (kept === 0) {
    // One enormous line: cut inside it.
    let head = lines[0].slice(0, limit - 64);
    while (byteLength(head) > limit - 64) head = head.slice(0, Math.floor(head.length * 0.9));
    return `${head}\n… ${lines.length} more lines cut (the first one in part)`;
  }
  return `${lines.slice(0, kept).join('\n')}\n… ${lines.length - kept} more lines cut`;
}

/** A title on one line within GitHub's limit. */
export function cutTitle(title: string): string {
  const oneLine = title.replace(/\s*\n\s*/g, ' ');
  return oneLine.length <= TITLE_LIMIT ? oneLine : `${oneLine.slice(0, TITLE_LIMIT - 1)}…`;
}

function conclusionOf(verdict: Verdict): { status: CheckRunPlan['status']; conclusion: Conclusion | null } {
  switch (verdict.outcome) {
    case 'pass':
      return { status: 'completed', conclusion: 'success' };
    case 'wait':
      return { status: 'in_progress', conclusion: null };
    case 'skip':
      return { status: 'completed', conclusion: 'skipped' };
    case 'fail': {
      const failing = verdict.results.filter((r) => r.outcome === 'fail');
      const byPeople = failing.length > 0 && failing.every((r) => r.actionRequired === true);
      return { status: 'completed', conclusion: byPeople ? 'action_required' : 'failure' };
    }
  }
}

function annotationsOf(verdict: Verdict, policyPath: string): Annotation[] {
  const out: Annotation[] = [];
  const annotate = (r: RuleResult) => r.outcome === 'fail' || r.outcome === 'wait';
  for (const r of verdict.results.filter(annotate)) {
    for (const d of r.details) {
      if (!d.path || !d.line || d.line < 1) continue;
      if (r.rule === 'policy' && d.path !== policyPath) continue; // a preset or another repository's file
      const a: Annotation = {
        path: d.path,
        start_line: d.line,
        end_line: d.line,
        annotation_level: r.outcome === 'fail' ? 'failure' : 'warning',
        message: d.message.length > 60_000 ? `${d.message.slice(0, 60_000)}…` : d.message,
        title: `merge-gate: ${r.rule}`,
      };
      if (d.column && d.column >= 1) {
        a.start_column = d.column;
        a.end_column = d.column;
      }
      out.push(a);
    }
  }
  return out;
}

export function planCheckRun(verdict: Verdict, options: PlanOptions): CheckRunPlan {
  const { title, summary, text } = renderMarkdown(verdict);
  const { status, conclusion } = conclusionOf(verdict);
  const banner = options.dryRun ? '\n\n> **Dry run** (`DRY_RUN=true`): merge-gate reports only and does not land pull requests.' : '';
  const annotations = annotationsOf(verdict, options.policyPath);
  const left = annotations.length - ANNOTATION_LIMIT;
  // First, so that cutting a long text never cuts the notice.
  const notice = left > 0 ? `> ${annotations.length} details point at a file and a line; the first ${ANNOTATION_LIMIT} are annotated and the other ${left} are left out.\n\n` : '';
  return {
    status,
    conclusion,
    title: cutTitle(title),
    summary: fitOutput(summary + banner),
    text: fitOutput(notice + text),
    externalId: verdict.nextChangeAt ? `next=${verdict.nextChangeAt}` : '',
    detailsUrl: options.pullPageUrl ?? (conclusion === 'action_required' ? options.pullRequestUrl : null),
    annotations: annotations.slice(0, ANNOTATION_LIMIT),
  };
}

/** The instant a check run's external id says the verdict changes by itself, or null. */
export function nextChangeFromExternalId(externalId: string | null | undefined): string | null {
  const m = /^next=(\S+)$/.exec(externalId ?? '');
  return m && !Number.isNaN(Date.parse(m[1])) ? m[1] : null;
}

const norm = (s: string | null | undefined) => s ?? '';

/** An identical verdict is not written twice (SPEC §3). */
export function isUnchanged(existing: ExistingCheckRun | null, plan: CheckRunPlan): boolean {
  if (!existing) return false;
  return (
    existing.status === plan.status &&
    (plan.status !== 'completed' || existing.conclusion === plan.conclusion) &&
    norm(existing.title) === plan.title &&
    norm(existing.summary) === plan.summary &&
    norm(existing.text) === plan.text &&
    norm(existing.externalId) === plan.externalId
  );
}

/** Run `id` as this process wrote it with `plan` (what a later write compares with, without reading it back). */
export function asWritten(id: number, plan: CheckRunPlan): ExistingCheckRun {
  return { id, status: plan.status, conclusion: plan.conclusion, title: plan.title, summary: plan.summary, text: plan.text, externalId: plan.externalId };
}

export interface WriteTarget {
  owner: string;
  repo: string;
  headSha: string;
  checkName: string;
  /** What the facts query found on the head commit. */
  existing: ExistingCheckRun | null;
  /** A run this process created but GitHub's read side may not show yet. */
  knownId: number | null;
  now: Date;
}

export interface WriteResult {
  written: boolean;
  id: number | null;
  requests: number;
}

/** Create or update the check run; annotations go 50 a request, 250 at most. Writes nothing when nothing changed. */
export async function writeCheckRun(octokit: Octokit, target: WriteTarget, plan: CheckRunPlan): Promise<WriteResult> {
  if (isUnchanged(target.existing, plan)) return { written: false, id: target.existing!.id, requests: 0 };
  // GitHub does not move a completed run back to in_progress: a verdict that goes
  // back to waiting starts a new run on the head, which supersedes the old one
  // (GitHub shows, and branch protection reads, the newest run of a name).
  const reopen = target.existing?.status === 'completed' && plan.status !== 'completed';
  const id = reopen ? null : (target.existing?.id ?? target.knownId);
  // Annotations accumulate on a run: ones an earlier write made (listed in its text by the renderer) are not sent again.
  const earlier = target.existing?.text ?? '';
  const fresh = id === null ? plan.annotations : plan.annotations.filter((a) => !earlier.includes(markdownDetail({ path: a.path, line: a.start_line, message: a.message })));
  const annotations = fresh.slice(0, ANNOTATION_LIMIT); // a plan caps them already; a hand-made one is capped here
  const output = { title: plan.title, summary: plan.summary, text: plan.text };
  const state = {
    status: plan.status,
    ...(plan.conclusion && plan.status === 'completed' ? { conclusion: plan.conclusion, completed_at: target.now.toISOString() } : {}),
    external_id: plan.externalId,
    ...(plan.detailsUrl ? { details_url: plan.detailsUrl } : {}),
  };
  const first = annotations.slice(0, ANNOTATION_BATCH);
  // What a person sees at a glance (status, conclusion, title) unchanged: this write may wait behind those that change it.
  const detailsOnly =
    id !== null &&
    target.existing !== null &&
    target.existing.status === plan.status &&
    target.existing.conclusion === (plan.status === 'completed' ? plan.conclusion : null) &&
    norm(target.existing.title) === plan.title;
  const params = { owner: target.owner, repo: target.repo, ...(detailsOnly ? { request: DETAILS_ONLY } : {}) };
  let runId: number;
  let requests = 1;
  if (id === null) {
    const res = await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
      ...params,
      name: target.checkName,
      head_sha: target.headSha,
      ...state,
      output: { ...output, ...(first.length ? { annotations: first } : {}) },
    });
    runId = Number(res.data.id);
  } else {
    await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      ...params,
      check_run_id: id,
      ...state,
      output: { ...output, ...(first.length ? { annotations: first } : {}) },
    });
    runId = id;
  }
  for (let i = ANNOTATION_BATCH; i < annotations.length; i += ANNOTATION_BATCH) {
    requests++;
    await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      ...params,
      check_run_id: runId,
      output: { ...output, annotations: annotations.slice(i, i + ANNOTATION_BATCH) },
    });
  }
  return { written: true, id: runId, requests };
}
