// EvaluationRecords for the history's tests: valid defaults, override what matters.
import type { EvaluationRecord } from '../../src/pages/types.js';
import { HEAD_SHA } from '../helpers/facts.js';

export function evaluationAt(at: number, overrides: Partial<EvaluationRecord> = {}): EvaluationRecord {
  return {
    repository: 'acme/widgets',
    number: 42,
    at,
    lastAt: at,
    seen: 1,
    causes: ['pull_request.opened'],
    headSha: HEAD_SHA,
    base: 'main',
    title: 'Make widgets faster',
    author: 'author',
    url: 'https://github.com/acme/widgets/pull/42',
    outcome: 'fail',
    results: [{ rule: 'reviews', outcome: 'fail', reason: '0 / 1 approvals', details: [] }],
    approvals: [],
    owners: [],
    ...overrides,
  };
}
