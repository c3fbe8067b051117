// The revert decision as a pure function of one GraphQL read (src/trunk/revert.ts).
import { describe, expect, it } from '@jest/globals';
import { decideRevert, isOurBot, type CandidateNode, type LandedPullNode, type RevertFacts } from '../../src/trunk/revert.js';
import { findRevert, revertMarker } from '../../src/trunk/marker.js';
import { validPolicy } from '../helpers/policy.js';

const SHA = 'ab'.repeat(20);
const trunk = validPolicy('preset: none\ntrunk: { exception: { label: fix-forward, required: 2 }, revert: true }\n').trunk!;

function landed(overrides: Partial<LandedPullNode> = {}): LandedPullNode {
  return {
    id: 'PR_1',
    number: 41,
    title: 'Make widgets faster',
    url: 'https://github.com/acme/widgets/pull/41',
    merged: true,
    mergeCommit: { oid: SHA },
    mergedBy: { __typename: 'Bot', login: 'merge-gate' },
    author: { __typename: 'User', login: 'alice' },
    ...overrides,
  };
}

function read(options: { state?: string; pulls?: LandedPullNode[]; candidates?: CandidateNode[] } = {}): RevertFacts {
  return {
    repository: {
      url: 'https://github.com/acme/widgets',
      deployments: {
        nodes: [
          {
            databaseId: 7,
            commitOid: SHA,
            createdAt: '2026-11-22T10:00:00Z',
            environment: 'production',
            latestStatus: { state: options.state ?? 'FAILURE', description: 'cut off', createdAt: '2026-11-22T10:05:00Z', logUrl: null, environmentUrl: null },
            commit: { associatedPullRequests: { nodes: options.pulls ?? [landed()] } },
          },
        ],
      },
      labelled: { nodes: [] },
      recent: { nodes: options.candidates ?? [] },
    },
  };
}

describe('decideRevert', () => {
  it('opens a revert of the pull request merge-gate landed, with the marker, linking the deployments page when the status has no log', () => {
    const decision = decideRevert(trunk, read(), 'merge-gate');
    expect(decision).toMatchObject({ action: 'open', pullRequestId: 'PR_1', original: 41, title: 'Revert "Make widgets faster"' });
    const body = decision.action === 'open' ? decision.body : '';
    expect(body).toContain('([the failed deployment](https://github.com/acme/widgets/deployments?environment=production))');
    expect(body).toContain('@alice: ');
    expect(body).toContain('carries the `fix-forward` label, so it may land meanwhile with 2 approvals');
    expect(body.endsWith(revertMarker(SHA))).toBe(true);
  });

  it('proposes nothing for a deployment that does not hold, a commit not landed by our bot, or one no pull request landed', () => {
    expect(decideRevert(trunk, read({ state: 'SUCCESS' }), 'merge-gate')).toMatchObject({ action: 'none' });
    expect(decideRevert(trunk, read({ state: 'IN_PROGRESS' }), 'merge-gate')).toMatchObject({ action: 'none' });
    expect(decideRevert(trunk, read({ pulls: [landed({ mergedBy: { __typename: 'User', login: 'merge-gate' } })] }), 'merge-gate')).toEqual({ action: 'none', why: '#41 was not landed by merge-gate' });
    expect(decideRevert(trunk, read({ pulls: [landed({ mergedBy: { __typename: 'Bot', login: 'other-app' } })] }), 'merge-gate')).toMatchObject({ action: 'none' });
    // The deployed commit is not the pull request's merge commit (an open pull request whose head was deployed, say).
    expect(decideRevert(trunk, read({ pulls: [landed({ merged: false, mergeCommit: null })] }), 'merge-gate')).toEqual({ action: 'none', why: 'abababa was not landed by a pull request' });
    expect(decideRevert(trunk, read({ pulls: [] }), 'merge-gate')).toMatchObject({ action: 'none' });
    const noRevert = validPolicy('preset: none\ntrunk: { exception: { label: fix-forward } }\n').trunk!;
    expect(decideRevert(noRevert, read(), 'merge-gate')).toEqual({ action: 'none', why: 'revert is not configured' });
    expect(decideRevert(trunk, { repository: null }, 'merge-gate')).toMatchObject({ action: 'none' });
  });

  it('an existing revert we authored stops a second one; unlabelled, it is only labelled', () => {
    const ours = { number: 50, url: 'https://github.com/acme/widgets/pull/50', body: `x\n${revertMarker(SHA)}`, viewerDidAuthor: true, labels: { nodes: [{ name: 'Fix-Forward' }] } };
    expect(decideRevert(trunk, read({ candidates: [ours] }), 'merge-gate')).toEqual({ action: 'none', why: 'revert #50 is already proposed' });
    expect(decideRevert(trunk, read({ candidates: [{ ...ours, labels: { nodes: [] } }] }), 'merge-gate')).toEqual({ action: 'label', number: 50, url: ours.url });
    // Someone else's pull request carrying the marker does not count.
    expect(decideRevert(trunk, read({ candidates: [{ ...ours, viewerDidAuthor: false }] }), 'merge-gate')).toMatchObject({ action: 'open' });
    // The marker of another commit does not count either.
    expect(findRevert([{ ...ours, body: revertMarker('cd'.repeat(20)) }], SHA)).toBeUndefined();
  });

  it('a batch the landing journal knows: its revert covers before..after, naming every pull request and author; a landing of one, or a journal about another commit, keeps the pull request revert', () => {
    const BEFORE = 'cd'.repeat(20);
    const pull = (number: number, author: string) => ({ number, headSha: 'ef'.repeat(20), title: `Change ${number}`, url: `https://github.com/acme/widgets/pull/${number}`, author });
    const batch = { repository: 'acme/widgets', branch: 'main', before: BEFORE, after: SHA, landedAt: '2026-11-22T09:00:00.000Z', batch: 7, pulls: [pull(40, 'bob'), pull(41, 'alice'), pull(42, 'bob')] };
    const decision = decideRevert(trunk, read(), 'merge-gate', batch);
    expect(decision).toMatchObject({ action: 'open-range', branch: 'main', before: BEFORE, after: SHA, ref: `merge-gate/revert/${SHA}`, pulls: [40, 41, 42], title: 'Revert batch 7: #40 #41 #42' });
    const body = decision.action === 'open-range' ? decision.body : '';
    expect(body).toContain(`Reverts #40 #41 #42, which merge-gate landed together (batch 7): main from ${BEFORE} to ${SHA}.`);
    expect(body).toContain('@bob @alice: merge-gate holds every landing');
    expect(body.endsWith(revertMarker(SHA))).toBe(true);
    // Proposed already: nothing more.
    const ours = { number: 50, url: 'https://github.com/acme/widgets/pull/50', body: `x\n${revertMarker(SHA)}`, viewerDidAuthor: true, labels: { nodes: [{ name: 'fix-forward' }] } };
    expect(decideRevert(trunk, read({ candidates: [ours] }), 'merge-gate', batch)).toMatchObject({ action: 'none' });
    expect(decideRevert(trunk, read(), 'merge-gate', { ...batch, batch: null, pulls: [pull(41, 'alice')] })).toMatchObject({ action: 'open', pullRequestId: 'PR_1' });
    expect(decideRevert(trunk, read(), 'merge-gate', { ...batch, after: BEFORE })).toMatchObject({ action: 'open', pullRequestId: 'PR_1' });
  });

  it('recognises our bot by the app slug, with or without [bot], never a user of that name', () => {
    expect(isOurBot({ __typename: 'Bot', login: 'merge-gate' }, 'merge-gate')).toBe(true);
    expect(isOurBot({ __typename: 'Bot', login: 'Merge-Gate[bot]' }, 'merge-gate')).toBe(true);
    expect(isOurBot({ __typename: 'User', login: 'merge-gate' }, 'merge-gate')).toBe(false);
    expect(isOurBot(null, 'merge-gate')).toBe(false);
  });
});
