// Landing's pure decisions.
import { describe, expect, test } from '@jest/globals';
import { describeNote } from '../../src/land/check.js';
import { quoted } from '../../src/escape.js';
import { MAX_BODY_BYTES } from '../../src/deploy/webhook.js';

const randomUUIDLike = '6f1c1e0a-3b0e-4c57-9b86-2a6cf0b1e5d2';
import {
  branchDeletion,
  carriedHeads,
  carryApprovals,
  expectedUpdateTree,
  UPDATE_MAX_AGE_MS,
  classifyMergeError,
  landPolicy,
  matchUpdate,
  mergeableRetryDelay,
  shouldLand,
  trunkUpdated,
  type BranchFacts,
} from '../../src/land/decide.js';
import { policyJsonSchema, PolicyFileSchema } from '../../src/policy/schema.js';
import { makeFacts } from '../helpers/facts.js';

const land = (over: object = {}) => landPolicy(PolicyFileSchema.parse({ land: over }));

describe('shouldLand', () => {
  test.each([
    [{ mode: 'auto' }, { draft: false, labels: [] }, { land: true }],
    [{ mode: 'off' }, { draft: false, labels: [] }, { land: false, why: 'off' }],
    [{ mode: 'auto' }, { draft: true, labels: [] }, { land: false, why: 'draft' }],
    [{ mode: 'label' }, { draft: false, labels: [] }, { land: false, why: 'label' }],
    [{ mode: 'label', label: 'ship' }, { draft: false, labels: ['land'] }, { land: false, why: 'label' }],
    [{ mode: 'label', label: 'ship' }, { draft: false, labels: ['ship'] }, { land: true }],
    [{ mode: 'label' }, { draft: true, labels: ['land'] }, { land: false, why: 'draft' }],
  ])('%j %j → %j', (policy, facts, expected) => {
    expect(shouldLand(land(policy), facts)).toEqual(expected);
  });

  test('a policy without a land section lands with the defaults', () => {
    expect(landPolicy(PolicyFileSchema.parse({}))).toEqual({ mode: 'auto', label: 'land', method: 'squash', delete_branch: true, dispatch: false, up_to_date: false });
  });

  test('land.up_to_date is in the published JSON Schema', () => {
    const land = (policyJsonSchema().properties as Record<string, { properties: Record<string, { type: string; default: unknown }> }>).land;
    expect(land.properties.up_to_date).toMatchObject({ type: 'boolean', default: false });
  });
});

describe('classifyMergeError', () => {
  const http = (status: number, message: string) => Object.assign(new Error(message), { status });
  test.each([
    [http(409, 'Head branch was modified'), false, { kind: 'head-moved' }],
    [http(405, 'Pull Request is not mergeable'), false, { kind: 'refused', status: 405, workflows: false }],
    [http(422, 'At least 1 approving review is required'), false, { kind: 'refused', status: 422, workflows: false }],
    [http(403, 'refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission'), false, { kind: 'refused', workflows: true }],
    [http(403, 'Resource not accessible by integration'), true, { kind: 'refused', status: 403, workflows: true }],
    [http(403, 'Resource not accessible by integration'), false, { kind: 'refused', status: 403, workflows: false }],
    [http(502, 'Bad Gateway'), false, { kind: 'uncertain' }],
    [http(429, 'slow down'), false, { kind: 'uncertain' }],
    [http(403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'), true, { kind: 'uncertain' }],
    [new Error('socket hang up'), false, { kind: 'uncertain' }],
  ])('%s', (error, workflows, expected) => {
    expect(classifyMergeError(error, workflows)).toMatchObject(expected);
  });
});

describe('branchDeletion', () => {
  const base: BranchFacts = { deleteBranch: true, headRepo: 'octo/app', baseRepo: 'octo/app', headRef: 'topic', defaultBranch: 'main', otherBases: ['main'] };
  test.each([
    [{}, true],
    [{ deleteBranch: false }, false],
    [{ headRepo: 'alice/app' }, false],
    [{ headRepo: null }, false],
    [{ headRef: 'main' }, false],
    [{ otherBases: ['main', 'topic'] }, false],
    [{ headRepo: 'OCTO/App' }, true],
  ])('%j → %s', (over, deleted) => {
    expect(branchDeletion({ ...base, ...over }).delete).toBe(deleted);
  });
});

describe('approvals carried over merge-gate\'s own updates', () => {
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const base1 = '1'.repeat(40);
  const base2 = '2'.repeat(40);

  test('a merge commit of exactly the updated head and the merged base, with the tree of their merge, matches; anything else does not', () => {
    const tree = 't'.repeat(40);
    const updates = [{ fromHead: a, baseSha: base1, tree, toHead: null, at: 0 }];
    const head = (parents: string[], t = tree) => ({ sha: b, parents, tree: t });
    expect(matchUpdate(updates, head([a, base1]), 1_000)).toEqual(updates[0]);
    expect(matchUpdate(updates, head([a, base1], 'x'.repeat(40)), 1_000)).toBeNull(); // the same parents, anything else in it: a hand-made merge
    expect(matchUpdate(updates, head([base1, a]), 1_000)).toBeNull(); // parents in the other order: not GitHub's update
    expect(matchUpdate(updates, head([a, base2]), 1_000)).toBeNull(); // another base
    expect(matchUpdate(updates, head([a]), 1_000)).toBeNull(); // a rebase or a push
    expect(matchUpdate([{ ...updates[0], toHead: 'c'.repeat(40) }], head([a, base1]), 1_000)).toBeNull(); // already matched to another head
    expect(matchUpdate([{ ...updates[0], tree: null }], head([a, base1]), 1_000)).toBeNull(); // the tree it must give was not known
    expect(matchUpdate(updates, head([a, base1]), UPDATE_MAX_AGE_MS + 1)).toBeNull(); // too old to be merge-gate's
  });

  test("the tree an update must give is that of GitHub's test merge of exactly the head and the base", () => {
    const merge = { tree: 't'.repeat(40), parents: [base1, a] };
    expect(expectedUpdateTree(merge, a, base1)).toBe(merge.tree);
    expect(expectedUpdateTree(merge, a, base2)).toBeNull(); // a test merge with an older base
    expect(expectedUpdateTree(merge, b, base1)).toBeNull();
    expect(expectedUpdateTree(null, a, base1)).toBeNull();
  });

  test('chains of verified updates carry approvals; unverified ones do not', () => {
    const c = 'c'.repeat(40);
    const updates = [
      { fromHead: a, baseSha: base1, tree: null, toHead: b, at: 0 },
      { fromHead: b, baseSha: base2, tree: null, toHead: c, at: 0 },
    ];
    expect(carriedHeads(updates, c)).toEqual(new Set([a, b, c]));
    expect(carriedHeads([{ fromHead: a, baseSha: base1, tree: null, toHead: null, at: 0 }], b)).toEqual(new Set([b]));
  });

  test('only approvals on carried heads are moved to the head', () => {
    const facts = makeFacts({ head: { ref: 'topic', sha: b } });
    facts.reviews = [
      { author: { login: 'bob', bot: false }, state: 'APPROVED', commitSha: a, submittedAt: '2026-11-22T09:00:00Z' },
      { author: { login: 'carol', bot: false }, state: 'APPROVED', commitSha: 'd'.repeat(40), submittedAt: '2026-11-22T09:00:00Z' },
    ];
    const out = carryApprovals(facts, new Set([a, b]));
    expect(out.reviews!.map((r) => r.commitSha)).toEqual([b, 'd'.repeat(40)]);
    expect(facts.reviews[0].commitSha).toBe(a); // not mutated
  });
});

describe('the rest', () => {
  test('mergeable retries are bounded and back off', () => {
    const options = { attempts: 4, baseDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => mergeableRetryDelay(n, options))).toEqual([1_000, 2_000, 4_000, null, null]);
  });

  test('trunkUpdated keeps exactly the SPEC §4 keys, in order; pull_requests lists the one pull request of a landing on its own', () => {
    const pull = { number: 1, title: 't', url: 'u', author: 'al', head_sha: 'h', secret: 'no' };
    const extra = { id: 'x', repository: 'o/r', branch: 'main', before: 'b', after: 'a', landed_at: 't', pull_requests: [pull], pull_request: { number: 9 }, more: 1 };
    const one = '{"number":1,"title":"t","url":"u","author":"al","head_sha":"h"}';
    expect(JSON.stringify(trunkUpdated(extra as never))).toBe(
      `{"type":"trunk-updated","id":"x","repository":"o/r","branch":"main","before":"b","after":"a","pull_request":${one},"pull_requests":[${one}],"landed_at":"t"}`,
    );
  });

  test('trunkUpdated of a batch: pull_requests in landing order, pull_request the last (SPEC §4a)', () => {
    const p = (n: number) => ({ number: n, title: `t${n}`, url: `https://github.com/o/r/pull/${n}`, author: 'al', head_sha: `${n}`.repeat(40) });
    const e = trunkUpdated({ id: 'x', repository: 'o/r', branch: 'main', before: 'b', after: 'a', landed_at: 't', pull_requests: [p(41), p(43), p(42)] });
    expect(e.pull_requests.map((x) => x.number)).toEqual([41, 43, 42]);
    expect(e.pull_request).toEqual(p(42));
    expect(e.pull_request).not.toBe(e.pull_requests[2]); // a copy: the body never shares a caller's object
  });

  test("trunkUpdated of a batch of 100 with the longest, widest titles stays within the deploy trigger's body limit; a landing on its own keeps its title", () => {
    const title = '😀\u0001'.repeat(128); // 256 characters, each 4 bytes or a 6-byte JSON escape
    const pulls = Array.from({ length: 100 }, (_, i) => ({ number: 100_000 + i, title, url: `https://github.com/${'o'.repeat(39)}/${'r'.repeat(100)}/pull/${100_000 + i}`, author: 'a'.repeat(39), head_sha: 'f'.repeat(40) }));
    const base = { id: randomUUIDLike, repository: `${'o'.repeat(39)}/${'r'.repeat(100)}`, branch: 'b'.repeat(255), before: 'e'.repeat(40), after: 'd'.repeat(40), landed_at: '2026-12-05T10:00:00Z' };
    const batch = trunkUpdated({ ...base, pull_requests: pulls as [typeof pulls[0], ...typeof pulls] });
    expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(batch.pull_requests[0].title.endsWith('…')).toBe(true);
    expect(batch.pull_requests[0].title.startsWith('😀\u0001😀')).toBe(true);
    expect(trunkUpdated({ ...base, pull_requests: [pulls[0]] }).pull_request.title).toBe(title);
  });

  test("GitHub's words and branch names are shown as code, never as markdown", () => {
    expect(quoted('**bold** `tick`\n[x](javascript:1)')).toBe('``**bold** `tick` [x](javascript:1)``');
    expect(describeNote({ kind: 'conflicts', branch: 'a`b' }).lines).toContain('``a`b``');
  });
});
