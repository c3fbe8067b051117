// The freeze rule (SPEC §2, freeze): nothing lands while a freeze window holds.
//
// Everything here is a pure function of the policy and an injected instant; the
// machine's clock, time zone and locale are never consulted.
//
// Time model
// - Every time in the freeze section is a wall-clock time in `freeze.timezone`
//   (luxon, IANA rules). A window holds from `from` (inclusive) to `to`
//   (exclusive), compared as instants, so a weekly "fri 16:00" is 16:00 local
//   time that Friday whatever the UTC offset is that day.
// - Wall-clock times that do not exist (inside a spring-forward gap) resolve the
//   way luxon resolves them: moved forward by the length of the gap, e.g.
//   01:30 on 2026-03-29 in Europe/London is 02:30 BST (01:30 UTC), and 02:30 on
//   2026-03-08 in America/New_York is 03:30 EDT (07:30 UTC).
// - Wall-clock times that exist twice (in a fall-back overlap) take the offset
//   luxon picks, which depends on the zone: in Europe/London and
//   America/New_York the later, standard-time occurrence (01:30 on 2026-10-25
//   in London is 01:30 GMT), in Australia/Sydney the earlier one.
// - A window whose resolved end is not after its resolved start (possible only
//   for a window lying inside a gap or overlap) is empty that day: it freezes
//   nothing.
// - Weekly spans: `from` later in the week than `to` wraps over the end of the
//   week ("sat 20:00" → "mon 06:00"); `from` equal to `to` is an empty span.
//   "24:00" is midnight at the end of that day.
// - Overlapping or chained windows (one ending exactly when another starts) form
//   one freeze period; its end is the first instant that is not frozen. Weekly
//   windows that together cover the whole week freeze forever: `endsAt` is then
//   null (no end), and there is no next boundary.
import { DateTime } from 'luxon';
import type { FreezePolicy, FreezeWindow, Policy } from '../policy/schema.js';
import { parseLocalDateTime, parseWeeklyPoint } from '../policy/time.js';
import { exceptionStanding } from './approvals.js';
import type { RuleContext } from './context.js';
import type { Detail, RuleResult } from './types.js';
import { outOf, plural } from './words.js';

export interface FreezeState {
  /**
   * The freeze holding at `now`: the names of the windows containing `now`
   * (joined with ", ") and the end of the whole freeze period (UTC), null when
   * the weekly windows cover the whole week and the freeze never ends.
   */
  active: { name: string; endsAt: DateTime | null } | null;
  /** The next instant strictly after `now` at which frozen/not frozen changes (UTC), or null. */
  next: DateTime | null;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Beyond the last one-off window, a year and two weeks of weekly windows shows every daylight-saving variant. */
const HORIZON = 380 * DAY;

interface Span {
  start: number;
  end: number;
  window: number;
}

type Prepared =
  | { kind: 'once'; index: number; name: string; span: Span | null }
  | { kind: 'weekly'; index: number; name: string; from: WeekOffset; to: WeekOffset; empty: boolean };

/** A point of the week as days after Monday (0 … 7) and minutes after that midnight (0 … 1439). */
interface WeekOffset {
  day: number;
  minutes: number;
}

function prepare(freeze: FreezePolicy): Prepared[] {
  const zone = freeze.timezone;
  return freeze.windows.map((w: FreezeWindow, index): Prepared => {
    if (w.weekly) {
      const from = parseWeeklyPoint(w.weekly.from);
      const to = parseWeeklyPoint(w.weekly.to);
      if (!from || !to) throw new Error(`freeze window "${w.name}": invalid weekly time`);
      const a = toOffset(from.weekday, from.minutes);
      const b = toOffset(to.weekday, to.minutes);
      const ka = a.day * 1440 + a.minutes;
      const kb = b.day * 1440 + b.minutes;
      // "from > to in the week means it wraps": the end lies in the following week.
      if (kb < ka) b.day += 7;
      return { kind: 'weekly', index, name: w.name, from: a, to: b, empty: kb === ka };
    }
    const from = w.from === undefined ? null : parseLocalDateTime(w.from, zone);
    const to = w.to === undefined ? null : parseLocalDateTime(w.to, zone);
    if (!from || !to) throw new Error(`freeze window "${w.name}": invalid from/to`);
    const start = from.toMillis();
    const end = to.toMillis();
    return { kind: 'once', index, name: w.name, span: end > start ? { start, end, window: index } : null };
  });
}

function toOffset(weekday: number, minutes: number): WeekOffset {
  // "24:00" is the next day's midnight ("sun 24:00" is the following Monday 00:00).
  return minutes >= 1440 ? { day: weekday, minutes: minutes - 1440 } : { day: weekday - 1, minutes };
}

/** The local Monday (as a zone-free calendar date, UTC midnight) of the week holding instant `ms`. */
function mondayOf(ms: number, zone: string): DateTime {
  const local = DateTime.fromMillis(ms, { zone });
  return DateTime.utc(local.year, local.month, local.day).minus({ days: local.weekday - 1 });
}

/** The instant of wall-clock `minutes` after midnight on `date` (+ `days`) in `zone`. */
function wallClock(date: DateTime, days: number, minutes: number, zone: string): number {
  const d = date.plus({ days });
  return DateTime.fromObject(
    { year: d.year, month: d.month, day: d.day, hour: Math.floor(minutes / 60), minute: minutes % 60 },
    { zone },
  ).toMillis();
}

class Calendar {
  readonly windows: Prepared[];
  readonly weekly: Extract<Prepared, { kind: 'weekly' }>[];
  readonly once: Span[];
  readonly lastOnceEnd: number;

  constructor(readonly zone: string, freeze: FreezePolicy) {
    this.windows = prepare(freeze);
    this.weekly = this.windows.filter((w): w is Extract<Prepared, { kind: 'weekly' }> => w.kind === 'weekly' && !w.empty);
    this.once = this.windows.flatMap((w) => (w.kind === 'once' && w.span ? [w.span] : []));
    this.lastOnceEnd = this.once.reduce((m, s) => Math.max(m, s.end), -Infinity);
  }

  /** Weekly occurrences starting in the weeks `fromWeek` … `toWeek` relative to the week of `ms`. */
  weeklySpans(ms: number, fromWeek: number, toWeek: number): Span[] {
    if (this.weekly.length === 0) return [];
    const monday = mondayOf(ms, this.zone);
    const spans: Span[] = [];
    for (let k = fromWeek; k <= toWeek; k++) spans.push(...this.week(k === 0 ? monday : monday.plus({ weeks: k })));
    return spans;
  }

  private readonly weeks = new Map<number, Span[]>();

  /** The non-empty occurrences of the weekly windows starting in the week of `monday` (memoised). */
  private week(monday: DateTime): Span[] {
    const key = monday.toMillis();
    let spans = this.weeks.get(key);
    if (!spans) {
      spans = [];
      for (const w of this.weekly) {
        const start = wallClock(monday, w.from.day, w.from.minutes, this.zone);
        const end = wallClock(monday, w.to.day, w.to.minutes, this.zone);
        if (end > start) spans.push({ start, end, window: w.index });
      }
      this.weeks.set(key, spans);
    }
    return spans;
  }

  /** Every non-empty span containing `ms` (start ≤ ms < end). */
  containing(ms: number): Span[] {
    // A weekly occurrence ends within two weeks of its week's Monday, so one
    // containing `ms` started this week or the week before; one more week on
    // each side for zones whose clocks go back over midnight.
    const candidates = [...this.once, ...this.weeklySpans(ms, -2, 1)];
    return candidates.filter((s) => s.start <= ms && ms < s.end);
  }

  /** The earliest span start strictly after `ms`, with the windows starting then. */
  nextStart(ms: number): { at: number; windows: number[] } | null {
    let best = Infinity;
    let windows: number[] = [];
    // Every weekly window has an occurrence starting in each week; an occurrence
    // can be empty only in a daylight-saving week, so three weeks ahead suffice.
    for (const s of [...this.once, ...this.weeklySpans(ms, -1, 3)]) {
      if (s.start <= ms) continue;
      if (s.start < best) {
        best = s.start;
        windows = [s.window];
      } else if (s.start === best) windows.push(s.window);
    }
    return best === Infinity ? null : { at: best, windows };
  }

  names(indices: Iterable<number>): string {
    const set = new Set(indices);
    return [...new Set(this.windows.filter((w) => set.has(w.index)).map((w) => w.name))].join(', ');
  }
}

interface Analysis {
  state: FreezeState;
  /** Names of the windows that start at `next` when not frozen. */
  nextNames: string | null;
}

function analyse(freeze: FreezePolicy, now: DateTime): Analysis {
  if (!now.isValid) throw new Error(`invalid evaluation time: ${now.invalidExplanation ?? now.invalidReason}`);
  const t = now.toMillis();
  const utc = (ms: number) => DateTime.fromMillis(ms, { zone: 'utc' });
  const cal = new Calendar(freeze.timezone, freeze);
  const here = cal.containing(t);
  if (here.length === 0) {
    const next = cal.nextStart(t);
    return { state: { active: null, next: next ? utc(next.at) : null }, nextNames: next ? cal.names(next.windows) : null };
  }
  // Follow the chain of overlapping and abutting windows to the first instant not frozen.
  const horizon = Math.max(t, cal.lastOnceEnd) + HORIZON;
  let cur = t;
  let spans = here;
  while (spans.length > 0) {
    const end = spans.reduce((m, s) => Math.max(m, s.end), cur);
    // Every span containing `cur` ends after it; never loop in place, whatever happens.
    if (end <= cur) throw new Error('internal error: freeze windows do not advance');
    cur = end;
    if (cur > horizon) {
      // Past every one-off window, a year of weekly windows without a gap: frozen for good.
      return { state: { active: { name: cal.names(here.map((s) => s.window)), endsAt: null }, next: null }, nextNames: null };
    }
    spans = cal.containing(cur);
  }
  const endsAt = utc(cur);
  return { state: { active: { name: cal.names(here.map((s) => s.window)), endsAt }, next: endsAt }, nextNames: null };
}

/** Whether `now` is frozen, until when, and the next instant the state changes. */
export function freezeState(freeze: FreezePolicy, now: DateTime): FreezeState {
  return analyse(freeze, now).state;
}

/** The next instant at which time alone changes the freeze verdict; null without a freeze section or boundary. */
export function nextFreezeBoundary(policy: Policy, now: DateTime): DateTime | null {
  return policy.freeze ? freezeState(policy.freeze, now).next : null;
}

/**
 * An instant as people read it: "Mon 08:00 Europe/London (07:00 UTC)"; with the
 * date ("Mon 2027-01-04 09:00 Europe/London (2027-01-04 09:00 UTC)") when it is
 * more than six days after `now`. Formatted in English whatever the machine's locale.
 */
export function formatFreezeInstant(at: DateTime, zone: string, now: DateTime): string {
  const withDate = at.toMillis() - now.toMillis() > 6 * DAY;
  const local = at.setZone(zone).setLocale('en-US');
  const utc = at.toUTC().setLocale('en-US');
  const localText = `${local.toFormat(withDate ? 'ccc yyyy-MM-dd HH:mm' : 'ccc HH:mm')} ${zone}`;
  if (/^(Etc\/)?(UTC|UCT|GMT|Universal|Zulu)$/i.test(zone)) return localText; // already UTC: say it once
  const sameDay = local.toISODate() === utc.toISODate();
  const utcText = utc.toFormat(withDate ? 'yyyy-MM-dd HH:mm' : sameDay ? 'HH:mm' : 'ccc HH:mm');
  return `${localText} (${utcText} UTC)`;
}

export function freezeRule(ctx: RuleContext): RuleResult {
  const freeze = ctx.policy.freeze;
  if (!freeze) return { rule: 'freeze', outcome: 'skip', reason: 'not configured', details: [] };
  const { now } = ctx;
  const zone = freeze.timezone;
  const { state, nextNames } = analyse(freeze, now);

  if (!state.active) {
    const details: Detail[] = [];
    if (state.next && state.next.toMillis() - now.toMillis() <= 7 * DAY) {
      details.push({ message: `next freeze (${nextNames}) starts ${formatFreezeInstant(state.next, zone, now)}` });
    }
    return { rule: 'freeze', outcome: 'pass', reason: 'not frozen', details };
  }

  const { name, endsAt } = state.active;
  const until = endsAt ? `until ${formatFreezeInstant(endsAt, zone, now)}` : 'with no end (the weekly windows cover the whole week)';
  const frozen = `frozen (${name}) ${until}`;
  const details: Detail[] = [
    {
      message: endsAt
        ? `${frozen}; merge-gate re-evaluates this pull request by itself when the freeze ends`
        : frozen,
    },
  ];

  const exception = freeze.exception;
  if (exception) {
    const standing = exceptionStanding(exception, ctx.policy.reviews, ctx.facts);
    if (standing.labelled) {
      const { approvers } = standing;
      const have = approvers.length;
      if (standing.enough) {
        return {
          rule: 'freeze',
          outcome: 'pass',
          reason: `frozen (${name}) but ${exception.label} with ${outOf(have, exception.required, 'approval')}`,
          details: [...details, { message: `approved by ${approvers.join(', ') || 'nobody (none required)'}` }],
        };
      }
      return {
        rule: 'freeze',
        outcome: 'fail',
        reason: `freeze exception needs ${plural(exception.required, 'approval')}, has ${have}`,
        details: [
          ...details,
          {
            message: `labelled ${exception.label}: ${outOf(have, exception.required, 'approval')}${have ? ` (${approvers.join(', ')})` : ''}; ${exception.required - have} more needed, or remove the label to wait for the freeze to end`,
          },
        ],
        actionRequired: true,
      };
    }
    details.push({
      message: `a pull request labelled ${exception.label} with ${plural(exception.required, 'approval')} may land during the freeze`,
    });
  }
  return { rule: 'freeze', outcome: 'wait', reason: frozen, details };
}
