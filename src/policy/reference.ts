// `flags.reference` runs over every added line of every pull request, on the
// app's one thread, and a pull request author writes those lines. It runs on
// RE2 (re2js): matching takes time linear in the line whatever the pattern,
// so no pattern can be a ReDoS. RE2 refuses what it cannot run in linear time
// (lookaround, backreferences); such a pattern is an error at `validate`.
import { RE2JS } from 're2js';

export type ReferencePattern = RE2JS;

export type CompiledReference = { ok: true; pattern: ReferencePattern } | { ok: false; message: string };

export function compileReference(source: string): CompiledReference {
  let pattern: ReferencePattern;
  try {
    pattern = RE2JS.compile(source);
  } catch (err) {
    const reason = (err as Error).message.replace(/^error parsing regexp: /, '');
    return { ok: false, message: `invalid regular expression for RE2, the linear-time engine that runs it (no lookaround, no backreferences): ${reason}` };
  }
  if (!('flag' in pattern.namedGroups())) {
    return { ok: false, message: 'the regular expression needs a named group `flag`, e.g. (?<flag>[a-z0-9-]+) or (?P<flag>[a-z0-9-]+)' };
  }
  return { ok: true, pattern };
}

/** Each non-empty `flag` group of the pattern's matches in `text`, left to right, without overlaps. */
export function* flagMatches(pattern: ReferencePattern, text: string): Generator<string> {
  const matcher = pattern.matcher(text);
  while (matcher.find()) {
    const flag = matcher.group('flag');
    if (flag) yield flag;
  }
}
