import { linguistGenerated } from '../../src/rules/gitattributes.js';

describe('linguistGenerated', () => {
  // [case, .gitattributes text, path, expected]
  const cases: Array<[string, string, string, boolean]> = [
    ['pattern without a slash matches the basename at the root', '*.pb.go linguist-generated', 'api.pb.go', true],
    ['pattern without a slash matches the basename at any depth', '*.pb.go linguist-generated', 'internal/api/v1/api.pb.go', true],
    ['pattern without a slash matches inside dot directories', '*.pb.go linguist-generated', '.gen/api.pb.go', true],
    ['star matches a leading dot (dot files included)', '*.lock linguist-generated', 'web/.yarn.lock', true],
    ['pattern without a slash does not match a longer name', '*.pb.go linguist-generated', 'api.pb.go.orig', false],
    ['a plain file name matches that name in any directory', 'schema.json linguist-generated', 'docs/api/schema.json', true],
    ['a leading slash anchors to the root (root file)', '/schema.json linguist-generated', 'schema.json', true],
    ['a leading slash anchors to the root (nested file does not match)', '/schema.json linguist-generated', 'docs/schema.json', false],
    ['a middle slash anchors to the root', 'gen/*.js linguist-generated', 'gen/client.js', true],
    ['a middle slash anchors: same path deeper does not match', 'gen/*.js linguist-generated', 'src/gen/client.js', false],
    ['star does not cross a slash', 'gen/*.js linguist-generated', 'gen/sub/client.js', false],
    ['trailing /** matches everything inside', 'gen/** linguist-generated', 'gen/sub/deep/client.js', true],
    ['trailing /** is anchored', 'gen/** linguist-generated', 'src/gen/client.js', false],
    ['trailing /** does not match the directory name itself', 'gen/** linguist-generated', 'gen', false],
    ['leading **/ matches in all directories', '**/generated/** linguist-generated', 'a/b/generated/c/d.ts', true],
    ['leading **/ matches at the root too', '**/generated/** linguist-generated', 'generated/d.ts', true],
    ['/**/ matches zero directories', 'api/**/types.ts linguist-generated', 'api/types.ts', true],
    ['/**/ matches several directories', 'api/**/types.ts linguist-generated', 'api/v1/beta/types.ts', true],
    ['** inside a name is a plain star (no slash crossing)', 'api/a**b.ts linguist-generated', 'api/x/b.ts', false],
    ['** inside a name is a plain star (within a name)', 'api/a**b.ts linguist-generated', 'api/axxb.ts', true],
    ['a trailing slash matches directories only, never files inside', 'dist/ linguist-generated', 'dist/app.js', false],
    ['a directory name does not apply to the files inside it', 'dist linguist-generated', 'dist/app.js', false],
    ['a directory-looking name still matches a file of that name', 'dist linguist-generated', 'pkg/dist', true],
    ['character classes', 'v[0-9].gen.ts linguist-generated', 'api/v2.gen.ts', true],
    ['negated character classes', 'v[!0-9].gen.ts linguist-generated', 'api/v2.gen.ts', false],
    ['braces are literal in gitattributes', '{a,b}.js linguist-generated', 'a.js', false],
    ['an escaped star is literal', '\\*.js linguist-generated', 'x.js', false],
    ['=true sets', '*.js linguist-generated=true', 'a.js', true],
    ['any other value sets (Linguist treats it as true)', '*.js linguist-generated=1', 'a.js', true],
    ['=false unsets', '*.js linguist-generated=false', 'a.js', false],
    ['-attr unsets', '*.js -linguist-generated', 'a.js', false],
    ['a later line overrides an earlier one (unset after set)', '*.js linguist-generated\nkeep.js -linguist-generated', 'src/keep.js', false],
    ['the override applies only where the later pattern matches', '*.js linguist-generated\nkeep.js -linguist-generated', 'src/other.js', true],
    ['a later line overrides an earlier one (set after unset)', 'keep.js -linguist-generated\n*.js linguist-generated', 'src/keep.js', true],
    ['!attr returns to unspecified (not generated)', '*.js linguist-generated\nlib/*.js !linguist-generated', 'lib/a.js', false],
    ['a later line about other attributes does not override', '*.js linguist-generated\n*.js text eol=lf', 'a.js', true],
    ['within a line the last mention wins', '*.js linguist-generated -linguist-generated', 'a.js', false],
    ['other attributes on the line are fine', '*.js text linguist-generated eol=lf', 'a.js', true],
    ['a similarly named attribute is a different attribute', '*.js linguist-generated-not', 'a.js', false],
    ['a line with no attributes says nothing', '*.js', 'a.js', false],
    ['comments are ignored', '# *.js linguist-generated', 'a.js', false],
    ['indented comments are ignored', '   # *.js linguist-generated', 'a.js', false],
    ['blank lines and indentation are fine', '\n\n   *.js   linguist-generated\n\n', 'a.js', true],
    ['tabs separate attributes', '*.js\tlinguist-generated', 'a.js', true],
    ['CRLF line endings', 'x.txt text\r\n*.js linguist-generated\r\n', 'a.js', true],
    ['CRLF does not glue onto the attribute value', '*.js linguist-generated=false\r\n', 'a.js', false],
    ['negative patterns are ignored, as git does', '*.js linguist-generated\n!keep.js -linguist-generated', 'keep.js', true],
    ['quoted patterns may contain spaces', '"my file.js" linguist-generated', 'src/my file.js', true],
    ['quoted patterns with octal escapes', '"caf\\303\\251.js" linguist-generated', 'café.js', true],
    ['a set macro applies its attributes', '[attr]generated linguist-generated -diff\n*.pb.go generated', 'x.pb.go', true],
    ['an unset macro does nothing', '[attr]generated linguist-generated\n*.pb.go linguist-generated\nx.pb.go -generated', 'x.pb.go', true],
    ['a later explicit attribute beats an earlier macro', '[attr]generated linguist-generated\n*.pb.go generated\nx.pb.go -linguist-generated', 'x.pb.go', false],
    ['a macro definition alone is not a pattern', '[attr]generated linguist-generated', 'generated', false],
    ['matching is case-sensitive', '*.JS linguist-generated', 'a.js', false],
  ];

  it.each(cases)('%s', (_name, text, path, expected) => {
    expect(linguistGenerated(text)(path)).toBe(expected);
  });

  it.each([
    ['no .gitattributes', null],
    ['an empty .gitattributes', ''],
  ])('%s marks nothing', (_name, text) => {
    const generated = linguistGenerated(text);
    expect(generated('a.js')).toBe(false);
    expect(generated('dist/x.min.js')).toBe(false);
  });

  it('answers thousands of paths against hundreds of patterns', () => {
    const text = Array.from({ length: 200 }, (_, i) => `gen${i}/** linguist-generated\n*.g${i}.ts linguist-generated`).join('\n');
    const generated = linguistGenerated(text);
    const paths = Array.from({ length: 5000 }, (_, i) => `src/mod${i}/file${i}.ts`);
    const hits = paths.filter(generated).length;
    expect(hits).toBe(0);
    expect(generated('gen7/x/y.ts')).toBe(true);
    expect(generated('a/b.g150.ts')).toBe(true);
  });
});
