import { codeownersTeams, parseCodeowners, type Owner } from '../../src/rules/codeowners.js';

/** The owners of `path` as written (`@user`, `@org/team`, email); null: no line matches; []: un-owned. */
function owners(text: string, path: string): string[] | null {
  const rule = parseCodeowners(text).ownersOf(path);
  return rule === null ? null : rule.owners.map(show);
}
const show = (o: Owner): string => (o.kind === 'user' ? `@${o.login}` : o.kind === 'team' ? o.team : o.email);

// The example file on GitHub's "About code owners" page, its lines in its order.
const GITHUB_EXAMPLE = `
# This is a comment.
# Each line is a file pattern followed by one or more owners.
* @global-owner1 @global-owner2
*.js @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/* docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
`;

describe('GitHub\'s documented example file', () => {
  const cases: Array<[string, string[] | null]> = [
    ['README.md', ['@global-owner1', '@global-owner2']],
    ['src/index.js', ['@js-owner']], // the last matching pattern takes precedence; the inline comment is not an owner
    ['cmd/main.go', ['docs@example.com']],
    ['notes/todo.txt', ['@octo-org/octocats']],
    ['scripts/deploy.sh', ['@doctocat', '@octocat']],
    ['docs/getting-started.md', ['@doctocat']], // /docs/ comes after docs/*
    ['docs/build-app/troubleshooting.md', ['@doctocat']],
    ['build/logs/today.log', ['@octocat']], // **/logs comes after /build/logs/
    ['deeply/nested/logs/x.log', ['@octocat']],
    ['src/apps/widget.ts', ['@octocat']], // apps/ anywhere
    ['apps/main.ts', ['@octocat']],
    ['apps/github/hub.ts', []], // a line with no owners un-owns
  ];
  test.each(cases)('%s is owned by %j', (path, expected) => {
    expect(owners(GITHUB_EXAMPLE, path)).toEqual(expected);
  });

  test('the file has no problems and names one team', () => {
    expect(parseCodeowners(GITHUB_EXAMPLE).problems).toEqual([]);
    expect(codeownersTeams(GITHUB_EXAMPLE)).toEqual(['@octo-org/octocats']);
  });
});

describe('each documented pattern on its own', () => {
  type Case = [pattern: string, path: string, owned: boolean];
  const cases: Case[] = [
    // "The docs/* pattern will match files like docs/getting-started.md but not further nested files"
    ['docs/*', 'docs/getting-started.md', true],
    ['docs/*', 'docs/build-app/troubleshooting.md', false],
    ['docs/*', 'src/docs/a.md', false],
    // "/build/logs/: any files in the build/logs directory at the root and any of its subdirectories"
    ['/build/logs/', 'build/logs/a.log', true],
    ['/build/logs/', 'build/logs/2026/a.log', true],
    ['/build/logs/', 'src/build/logs/a.log', false],
    ['/build/logs/', 'build/logs', false], // a directory pattern never matches a file of that name
    // "apps/: any file in an apps directory anywhere"
    ['apps/', 'apps/a.ts', true],
    ['apps/', 'x/y/apps/z/a.ts', true],
    ['apps/', 'apps', false],
    ['apps/', 'myapps/a.ts', false],
    // "**/logs: any file in a /logs directory such as /build/logs, /scripts/logs, /deeply/nested/logs"
    ['**/logs', 'build/logs/a', true],
    ['**/logs', 'logs/a', true],
    ['**/logs', 'deeply/nested/logs/a', true],
    ['**/logs', 'catalogs/a', false],
    // "*.js": every .js file, at any depth
    ['*.js', 'a.js', true],
    ['*.js', 'src/deep/a.js', true],
    ['*.js', 'a.jsx', false],
    // "*" owns everything
    ['*', 'README.md', true],
    ['*', 'a/b/c.txt', true],
    // gitignore's rules for the rest
    ['/*', 'README.md', true],
    ['/*', 'src/a.ts', false],
    ['apps/*', 'apps/a.ts', true],
    ['apps/*', 'apps/x/a.ts', false], // one level only
    ['/docs', 'docs/a.md', true], // a name also owns the directory of that name
    ['/docs', 'docs', true],
    ['/docs', 'src/docs/a.md', false],
    ['docs', 'src/docs/a.md', true], // no slash: at any depth
    ['docs', 'docsite/a.md', false],
    ['src/**/test', 'src/test/a.ts', true], // ** is zero or more directories
    ['src/**/test', 'src/a/b/test/a.ts', true],
    ['src/**/test', 'lib/src/test/a.ts', false], // a slash in the middle anchors at the root
    ['src/**', 'src/a/b.ts', true],
    ['src/**', 'src', false],
    ['**', 'any/thing', true],
    ['f?o.md', 'foo.md', true],
    ['f?o.md', 'fo.md', false],
    ['f\\*o', 'f*o', true],
    ['f\\*o', 'fxo', false],
    ['README.md', 'readme.md', false], // paths are case sensitive
    ['a\\ b.txt', 'a b.txt', true], // an escaped space stays in the pattern
    ['/*/', 'src/a.ts', true], // any directory at the root, all the way down
    ['/*/', 'README.md', false],
    ['**/*bar*', 'x/y/rebar.ts', true],
    ['src/**/test/b*', 'src/a/test/bc.ts', true],
    ['src/**/test/b*', 'src/a/test/c.ts', false],
  ];
  test.each(cases)('%s owns %s: %s', (pattern, path, owned) => {
    const text = `${pattern} @someone`;
    expect(parseCodeowners(text).problems).toEqual([]);
    expect(owners(text, path) !== null).toBe(owned);
  });
});

describe('lines GitHub does not honour are reported, never silently dropped', () => {
  test.each([
    ['!secret.txt @a', /negating/],
    ['\\#notes @a', /escaping "#"/],
    ['[ab].txt @a', /character ranges/],
    ['*.txt @a not-an-owner', /"not-an-owner" is not an owner/],
    ['a//b @a', /empty path segment/],
    ['/ @a', /matches no file/],
    ['***.js @a', /three asterisks/],
  ])('%s', (line, message) => {
    const parsed = parseCodeowners(`* @fallback\n${line}\n`);
    expect(parsed.problems).toEqual([{ line: 2, message: expect.stringMatching(message) }]);
    expect(parsed.rules.map((r) => r.line)).toEqual([1]);
  });

  test('email owners are parsed as emails, so the rule can report them as unsupported', () => {
    expect(parseCodeowners('*.go docs@example.com @Alice').rules[0].owners).toEqual([
      { kind: 'email', email: 'docs@example.com' },
      { kind: 'user', login: 'Alice' },
    ]);
  });

  test('a file over 3 MB is not read', () => {
    const parsed = parseCodeowners(`* @a\n${'#'.repeat(3 * 1024 * 1024)}`);
    expect(parsed.problems[0].message).toMatch(/over 3 MB/);
    expect(parsed.ownersOf('a')).toBeNull();
  });
});

describe('parsing', () => {
  test('comments, blank lines, CRLF and tabs', () => {
    const text = '# heading\r\n\r\n  *.md\t@Docs-Team   # why\r\n/src/  @octo/Core @bob\r\n';
    const parsed = parseCodeowners(text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rules).toEqual([
      { line: 3, pattern: '*.md', owners: [{ kind: 'user', login: 'Docs-Team' }] },
      { line: 4, pattern: '/src/', owners: [{ kind: 'team', team: '@octo/core' }, { kind: 'user', login: 'bob' }] },
    ]);
  });

  test('codeownersTeams lists each team once, lower-cased and sorted', () => {
    expect(codeownersTeams('* @Octo/Web @octo/db\n*.sql @octo/DB @carol\n')).toEqual(['@octo/db', '@octo/web']);
    expect(codeownersTeams('')).toEqual([]);
  });

  test('adversarial patterns stay fast (no regex backtracking)', () => {
    const star = `${'*a'.repeat(500)}b @x\n`;
    const deep = `${'**/a/'.repeat(150)}b @x\n`;
    const parsed = parseCodeowners(star + deep);
    const path = `${'a/'.repeat(2000)}${'a'.repeat(5000)}`;
    const started = process.hrtime.bigint();
    expect(parsed.ownersOf(path)).toBeNull();
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});
