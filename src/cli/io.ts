import { escapeControls } from '../escape.js';

/** Where a command writes, so tests can run commands in-process. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Print a usage error and return exit code 2. */
  usage(message: string): number;
  cwd: string;
}

export const USAGE = `merge-gate — gate and land pull requests for continuous deployment

Usage:
  merge-gate check [--base REF] [--branch NAME] [--policy FILE] [--now ISO]
                   [--approvals N] [--approved-by LOGIN]... [--team @ORG/TEAM=LOGIN,...]...
                   [--changes-requested N] [--label L]...
                   [--check NAME=STATE]... [--deployment STATE] [--json]
      Evaluate the current branch of a local git repository against the policy
      (read from the default branch, as the app does). \`check --help\` for more.
      Exit 0 pass, 1 fail, 3 wait, 2 usage, policy or repository error.
  merge-gate validate [FILE]
      Check a policy file (default .github/merge-gate.yml). Exit 0 valid, 2 errors.
  merge-gate replay [--last N] [--since DATE] [--branch NAME] [--policy FILE]
                    [--json | --markdown] [--html FILE]
      What the policy would have done to the branch's last N changes (local
      git history, or --github OWNER/REPO: its merged pull requests).
      \`replay --help\` for more. Exit 0; 2 on an error.
  merge-gate test [FILE]...
      Run policy test cases (default .github/merge-gate.test.yml).
      Exit 0 all hold, 1 some differ, 2 file or policy errors.
  merge-gate simulate OWNER/REPO#N [--policy FILE] [--json]
      Evaluate a live pull request on GitHub against a local policy file; writes
      nothing. Exit 0 pass, 1 fail, 3 wait, 2 usage, policy or GitHub error.
  merge-gate schema
      Print the JSON Schema of the policy file.
  merge-gate deploy-trigger [--config deploy.yml] | validate FILE | retry SHA
      Run the deploy trigger, check its config, or let a bad revision deploy again.
  merge-gate --help | --version
`;

export const CHECK_USAGE = `Usage: merge-gate check [options]

Evaluates HEAD of the git repository in the current folder as the check run would.

  --base REF          the branch the change would land on (default: the default branch)
  --branch NAME       its branch name, when --base is a commit or a tag
  --policy FILE       a policy file instead of .github/merge-gate.yml on the default branch
                      (origin/HEAD, else init.defaultBranch, main or master)
  --now ISO           the instant to judge at, e.g. 2026-12-24T10:00:00Z (no offset: UTC)
  --approvals N       N people approved the head commit (0 to 1000)
  --approved-by LOGIN LOGIN approved the head commit, on top of --approvals (repeatable;
                      what reviews.owners groups count)
  --team @ORG/TEAM=LOGIN,LOGIN   the team's members, for reviews.owners (repeatable);
                      a team not given is unknown and blocks its group
  --changes-requested N   N people request changes (0 to 1000)
  --label L           the pull request carries label L (repeatable)
  --check NAME=STATE  a check's latest state, e.g. ci/test=success (repeatable)
  --deployment STATE  the latest status of the newest deployment (trunk rule)
  --json              the verdict as JSON, figures as numbers; errors as JSON too

Exit 0 pass, 1 fail, 3 wait, 2 usage, policy or repository error (one line).
`;

export function processIo(): Io {
  // A last guard: whatever a command prints, no escape sequence reaches the terminal (line breaks and tabs stay).
  const safe = (line: string) => `${escapeControls(line, '\n\t')}\n`;
  const io: Io = {
    out: (line) => process.stdout.write(safe(line)),
    err: (line) => process.stderr.write(safe(line)),
    usage: (message) => {
      io.err(`merge-gate: ${message}\n\n${USAGE}`);
      return 2;
    },
    cwd: process.cwd(),
  };
  return io;
}
