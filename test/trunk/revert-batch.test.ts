// The trunk rule's revert of a merge queue batch (SPEC §2 trunk `revert: true`,
// §4a): the deployed commit is the base after a whole batch, so the revert
// covers the batch — from the landing journal's `before..after` — not only the
// pull request GitHub links to the commit. The app with the queue's shells and
// real SQLite against the fake GitHub over HTTP (test/helpers/queue-app.ts).
import { expect, test } from '@jest/globals';
import { deploymentStatusPayload } from '../helpers/github-app.js';
import { deploy, setupRepo, TRUNK } from '../helpers/github-scenario.js';
import { queuePolicy, QueueScenario } from '../helpers/queue-app.js';
import { queueScenarioEachTest } from '../helpers/queue-each-test.js';
import { openDb } from '../../src/state/db.js';
import { revertMarker } from '../../src/trunk/marker.js';

let q: QueueScenario;
queueScenarioEachTest((s) => (q = s));

test('a squash batch whose deployment fails: one revert of the whole batch (a commit on the base after it with the tree before it), labelled, proposed once', async () => {
  const repo = setupRepo(q.fake, `${queuePolicy('squash')}${TRUNK}`);
  const pulls = [2, 3, 4].map((n) => q.pull(repo, n));
  const before = repo.branches.get('main')!;
  const app = await q.app(openDb(':memory:'));
  for (const pull of pulls) await app.receive('pull_request', q.opened(repo, pull));
  await app.settle();
  await q.ci(app, repo, 1, 'SUCCESS');
  expect(pulls.map((p) => p.state)).toEqual(['MERGED', 'MERGED', 'MERGED']);
  const after = repo.branches.get('main')!;

  const failed = async (minutes: number) => {
    await app.receive('deployment_status', deploymentStatusPayload(q.fake, repo, deploy(q.fake, repo, after, 'FAILURE', minutes)));
    await app.settle();
  };
  await failed(0);
  const reverts = [...repo.pulls.values()].filter((p) => p.byApp);
  expect(reverts).toHaveLength(1);
  const [revert] = reverts;
  const ref = `merge-gate/revert/${after}`;
  expect(revert).toMatchObject({ title: 'Revert batch 1: #2 #3 #4', headRef: ref, baseRef: 'main', labels: ['fix-forward'], state: 'OPEN' });
  expect(revert.body).toContain(`Reverts #2 #3 #4, which merge-gate landed together (batch 1): main from ${before} to ${after}.`);
  expect(revert.body).toContain('@alice: merge-gate holds every landing');
  expect(revert.body).toContain(revertMarker(after));
  // The revert itself: on the base after the batch, with the tree from before it.
  const head = repo.branches.get(ref)!;
  expect(q.fake.parents.get(head)).toEqual([after]);
  expect(q.fake.treeOid(repo, head)).toBe(q.fake.treeOid(repo, before));
  expect(q.fake.treeOid(repo, head)).not.toBe(q.fake.treeOid(repo, after));

  await failed(5); // another failing status of the same commit: proposed already
  expect([...repo.pulls.values()].filter((p) => p.byApp)).toHaveLength(1);
});
