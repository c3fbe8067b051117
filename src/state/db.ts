// The app's durable state: one embedded SQLite file (OUTBOX_PATH) shared by the
// outbox of deliveries, the landing journal and the intake of accepted events, so
// that a landing and the events it owes are written in one transaction and survive a crash.
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makeDirs } from '../dirs.js';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,            -- the webhook-id, the same on every attempt
  target TEXT NOT NULL,              -- a URL, or dispatch:<installation>:<owner>/<repo>
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,       -- ms since the epoch
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | given_up
  done_at INTEGER,
  last_error TEXT,
  UNIQUE (event_id, target)
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (state, next_at);

CREATE TABLE IF NOT EXISTS landings (
  pull TEXT PRIMARY KEY,             -- owner/repo#number, lower case
  installation_id INTEGER NOT NULL,
  repository TEXT NOT NULL,          -- owner/repo as GitHub spells it
  number INTEGER NOT NULL,
  branch TEXT NOT NULL,
  head_sha TEXT NOT NULL,
  method TEXT NOT NULL,
  before_sha TEXT,
  state TEXT NOT NULL,               -- intent | landed | merged-elsewhere | abandoned
  after_sha TEXT,
  event_id TEXT,
  pull_json TEXT NOT NULL,           -- title, url, author: the event's pull_request
  targets_json TEXT NOT NULL,        -- where its trunk-updated goes
  tidied INTEGER NOT NULL DEFAULT 0, -- after landing: the check says so, the branch is dealt with, the others re-evaluated
  updated_at INTEGER NOT NULL,
  intent_id TEXT,                    -- which intent: resolving one never touches a newer one
  uncertain_since INTEGER            -- when the merge call ended without a certain answer
);
CREATE INDEX IF NOT EXISTS landings_after ON landings (repository, after_sha);

CREATE TABLE IF NOT EXISTS branch_updates (
  pull TEXT NOT NULL,
  from_head TEXT NOT NULL,           -- the head merge-gate brought up to date
  base_sha TEXT NOT NULL,            -- the base head it merged in
  tree TEXT,                         -- the tree the update must give (GitHub's test merge of the two); null: unknown
  to_head TEXT,                      -- the head the update produced, once seen and verified
  at INTEGER NOT NULL,
  PRIMARY KEY (pull, from_head)
);

-- The merge queue (src/queue/store.ts): per base branch the core's state, and the actions it asked for that are
-- not carried out yet, written in one transaction (an outbox of actions: a crash loses none).
CREATE TABLE IF NOT EXISTS queue_branches (
  key TEXT PRIMARY KEY,              -- installation:owner/repo:branch (repository lower case)
  installation_id INTEGER NOT NULL,
  repository TEXT NOT NULL,          -- owner/repo as GitHub spells it
  branch TEXT NOT NULL,
  state_json TEXT NOT NULL,          -- the core's QueueState
  setup_json TEXT NOT NULL,          -- what the latest policy says (settings, method, required checks)
  wake_at INTEGER,                   -- when the core asked for a tick (re-armed after a restart)
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  action_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_actions_key ON queue_actions (key, id);
CREATE TABLE IF NOT EXISTS queue_staging (
  key TEXT NOT NULL,
  ref TEXT NOT NULL,                 -- merge-gate/queue/<base>/<batch>
  batch INTEGER NOT NULL,
  sha TEXT,                          -- its head once built; null while building
  PRIMARY KEY (key, ref)
);
CREATE INDEX IF NOT EXISTS queue_staging_sha ON queue_staging (sha);
CREATE TABLE IF NOT EXISTS queue_dequeued (
  pull TEXT PRIMARY KEY,             -- owner/repo#number, lower case
  head_sha TEXT NOT NULL,            -- the head that left: it does not join again; a new head does
  why_json TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_landings (
  key TEXT NOT NULL,
  installation_id INTEGER NOT NULL,
  repository TEXT NOT NULL,
  branch TEXT NOT NULL,
  batch INTEGER NOT NULL,
  staging_sha TEXT NOT NULL,
  staging_tree TEXT NOT NULL,
  method TEXT NOT NULL,
  before_sha TEXT NOT NULL,          -- the base head the batch was built on
  pulls_json TEXT NOT NULL,          -- number, head SHA, title, url, author of each, in order
  targets_json TEXT NOT NULL,        -- where its trunk-updated goes
  delete_branch INTEGER NOT NULL DEFAULT 0, -- land.delete_branch: the head branches are deleted after it
  state TEXT NOT NULL,               -- intent | landed | failed
  merged_json TEXT NOT NULL DEFAULT '[]', -- squash/rebase: the pull requests merged so far
  after_sha TEXT,
  event_id TEXT,
  tidied INTEGER NOT NULL DEFAULT 0, -- after landing: the checks say so, head branches dealt with
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (key, batch, staging_sha)
);
CREATE INDEX IF NOT EXISTS queue_landings_after ON queue_landings (after_sha); -- "which pull requests did this commit bring" (src/land/journal.ts)

-- Each pull request's evaluations for the pages (src/history/store.ts): at most a few dozen per pull request, an
-- evaluation identical to the latest folded into it; pull requests not evaluated for a month forgotten.
CREATE TABLE IF NOT EXISTS pull_evaluations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  repository TEXT NOT NULL,          -- owner/repo, lower case
  number INTEGER NOT NULL,
  at INTEGER NOT NULL,               -- the first of the identical evaluations (ms)
  last_at INTEGER NOT NULL,          -- the latest of them
  record_json TEXT NOT NULL          -- the EvaluationRecord (src/pages/types.ts)
);
CREATE INDEX IF NOT EXISTS pull_evaluations_pull ON pull_evaluations (repository, number, id);
CREATE INDEX IF NOT EXISTS pull_evaluations_last ON pull_evaluations (last_at);

CREATE TABLE IF NOT EXISTS pending_requests (
  key TEXT PRIMARY KEY,              -- the gate's queue key for the request
  kind TEXT NOT NULL,                -- pull | head | repository | installation | deployment
  installation_id INTEGER NOT NULL,
  owner TEXT,
  repo TEXT,
  number INTEGER,                    -- pull
  sha TEXT,                          -- head
  environment TEXT,                  -- deployment
  state TEXT,                        -- deployment: the status's state
  since INTEGER NOT NULL             -- insertion order, for "oldest first"
);
`;

/** Columns added after a table's first release: added to a database an older version created. */
const ADDED_COLUMNS: ReadonlyArray<{ table: string; column: string; type: string }> = [
  { table: 'pending_requests', column: 'environment', type: 'TEXT' },
  { table: 'pending_requests', column: 'state', type: 'TEXT' },
  { table: 'landings', column: 'intent_id', type: 'TEXT' },
  { table: 'landings', column: 'uncertain_since', type: 'INTEGER' },
  // Null for an update recorded before: such an update matches no head.
  { table: 'branch_updates', column: 'tree', type: 'TEXT' },
];

function addMissingColumns(db: Db): void {
  for (const { table, column, type } of ADDED_COLUMNS) {
    const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>;
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

/** Open (creating the folder and tables) the state database; ':memory:' for tests. */
export function openDb(path: string): Db {
  if (path !== ':memory:') makeDirs(dirname(path));
  const db = new Database(path);
  // WAL: a reader never waits for the writer; synchronous FULL: a committed landing survives power loss.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  addMissingColumns(db);
  return db;
}
