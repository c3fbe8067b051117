// The freeze rule (SPEC §2, freeze): windows in the policy's zone, weekly spans
// over the week's end, one-off edges, daylight-saving changes, chained windows,
// the reason text and the freeze exception.
import { afterEach, describe, expect, it } from '@jest/globals';
import { DateTime, Settings } from 'luxon';
import { loadPolicyText } from '../../src/policy/load.js';
import type { FreezePolicy, Policy } from '../../src/policy/schema.js';
import { freezeRule, freezeState, nextFreezeBoundary } from '../../src/rules/freeze.js';
import { makeFacts, review } from '../helpers/facts.js';
import { validPolicy } from '../helpers/policy.js';

function policy(yaml: string): Policy {
  return validPolicy(`preset: none\n${yaml}`);
}

function freeze(timezone: string, windows: string): FreezePolicy {
  return policy(`freeze:\n  timezone: ${timezone}\n  windows:\n${windows}`).freeze!;
}

const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
const iso = (dt: DateTime | null | undefined) => (dt ? dt.toUTC().toISO({ suppressMilliseconds: true }) : null);

/** [instant, frozen?, endsAt or next] — endsAt when frozen, next freeze start when not. */
type Row = [string, string, boolean, string | null];

function expectState(f: FreezePolicy, at: string, frozen: boolean, boundary: string | null) {
  const state = freezeState(f, utc(at));
  expect(state.active !== null).toBe(frozen);
  if (frozen) expect(iso(state.active!.endsAt)).toBe(boundary);
  expect(iso(state.next)).toBe(boundary);
}

describe('freezeState: weekly span over the end of the week (sat 20:00 → mon 06:00, UTC)', () => {
  const f = freeze('UTC', '    - name: weekend\n      weekly: { from: "sat 20:00", to: "mon 06:00" }\n');
  // 2026-01-10 is a Saturday.
  it.each<Row>([
    ['one minute before the start', '2026-01-10T19:59:00Z', false, '2026-01-10T20:00:00Z'],
    ['one millisecond before the start', '2026-01-10T19:59:59.999Z', false, '2026-01-10T20:00:00Z'],
    ['exactly at the start (inclusive)', '2026-01-10T20:00:00Z', true, '2026-01-12T06:00:00Z'],
    ['saturday night', '2026-01-10T23:59:00Z', true, '2026-01-12T06:00:00Z'],
    ['sunday', '2026-01-11T12:00:00Z', true, '2026-01-12T06:00:00Z'],
    ['sunday 23:59, the last minute of the week', '2026-01-11T23:59:00Z', true, '2026-01-12T06:00:00Z'],
    ['monday 00:00, the first minute of the next week', '2026-01-12T00:00:00Z', true, '2026-01-12T06:00:00Z'],
    ['one minute before the end', '2026-01-12T05:59:00Z', true, '2026-01-12T06:00:00Z'],
    ['exactly at the end (exclusive)', '2026-01-12T06:00:00Z', false, '2026-01-17T20:00:00Z'],
    ['one minute after the end', '2026-01-12T06:01:00Z', false, '2026-01-17T20:00:00Z'],
    ['midweek', '2026-01-14T12:00:00Z', false, '2026-01-17T20:00:00Z'],
  ])('%s (%s)', (_name, at, frozen, boundary) => expectState(f, at, frozen, boundary));
});

describe('freezeState: weekly spans with and without wrapping (fri 16:00 → mon 08:00 wraps; mon 09:00 → fri 17:00 does not)', () => {
  it.each<Row>([
    ['wrapping span, friday evening', '2026-01-09T17:00:00Z', true, '2026-01-12T08:00:00Z'],
    ['wrapping span, tuesday', '2026-01-13T12:00:00Z', false, '2026-01-16T16:00:00Z'],
  ])('%s', (_name, at, frozen, boundary) => {
    expectState(freeze('UTC', '    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 08:00" }\n'), at, frozen, boundary);
  });
  it.each<Row>([
    ['working-hours span, tuesday', '2026-01-13T12:00:00Z', true, '2026-01-16T17:00:00Z'],
    ['working-hours span, saturday', '2026-01-10T12:00:00Z', false, '2026-01-12T09:00:00Z'],
    ['working-hours span, monday 09:00', '2026-01-12T09:00:00Z', true, '2026-01-16T17:00:00Z'],
    ['working-hours span, friday 17:00', '2026-01-16T17:00:00Z', false, '2026-01-19T09:00:00Z'],
  ])('%s', (_name, at, frozen, boundary) => {
    expectState(freeze('UTC', '    - name: weekdays\n      weekly: { from: "mon 09:00", to: "fri 17:00" }\n'), at, frozen, boundary);
  });
});

describe('freezeState: weekly edge cases', () => {
  it.each<Row>([
    ['"sun 24:00" is the following monday 00:00', '2026-01-11T23:59:00Z', true, '2026-01-12T00:00:00Z'],
    ['"sun 24:00" end is exclusive', '2026-01-12T00:00:00Z', false, '2026-01-17T20:00:00Z'],
  ])('%s', (_name, at, frozen, boundary) => {
    expectState(freeze('UTC', '    - name: weekend\n      weekly: { from: "sat 20:00", to: "sun 24:00" }\n'), at, frozen, boundary);
  });

  it('a span from a point to the same point is empty: never frozen, no boundary (validation rejects it; the rule is safe anyway)', () => {
    const empty: FreezePolicy = { timezone: 'UTC', windows: [{ name: 'nothing', weekly: { from: 'fri 16:00', to: 'fri 16:00' } }] };
    expect(loadPolicyText(`preset: none\nfreeze: ${JSON.stringify(empty)}\n`).ok).toBe(false);
    expectState(empty, '2026-01-09T16:00:00Z', false, null);
  });

  it.each([
    ['one window covering the whole week', '    - name: closed\n      weekly: { from: "mon 00:00", to: "sun 24:00" }\n', 'closed'],
    [
      'two windows chaining around the whole week',
      '    - name: early\n      weekly: { from: "mon 00:00", to: "thu 00:00" }\n    - name: late\n      weekly: { from: "thu 00:00", to: "mon 00:00" }\n',
      'late',
    ],
  ])('%s: frozen for good, no end and no next boundary', (_name, windows, name) => {
    const state = freezeState(freeze('Europe/London', windows), utc('2026-01-10T12:00:00Z'));
    expect(state.active).toEqual({ name, endsAt: null });
    expect(state.next).toBeNull();
  });
});

describe('freezeState: one-off window edges (from inclusive, to exclusive), Europe/London in winter', () => {
  const f = freeze('Europe/London', '    - name: Havana release freeze\n      from: "2026-12-18 00:00"\n      to: "2027-01-04 09:00"\n');
  it.each<Row>([
    ['one minute before from', '2026-12-17T23:59:00Z', false, '2026-12-18T00:00:00Z'],
    ['exactly at from', '2026-12-18T00:00:00Z', true, '2027-01-04T09:00:00Z'],
    ['one minute after from', '2026-12-18T00:01:00Z', true, '2027-01-04T09:00:00Z'],
    ['one minute before to', '2027-01-04T08:59:00Z', true, '2027-01-04T09:00:00Z'],
    ['exactly at to', '2027-01-04T09:00:00Z', false, null],
    ['one minute after to: only a past one-off window, no next boundary', '2027-01-04T09:01:00Z', false, null],
    ['long before', '2026-06-01T00:00:00Z', false, '2026-12-18T00:00:00Z'],
  ])('%s (%s)', (_name, at, frozen, boundary) => expectState(f, at, frozen, boundary));
});

describe('freezeState: daylight-saving changes of 2026, weekly "sun 00:00" → "sun 04:00"', () => {
  const weekly = (zone: string) => freeze(zone, '    - name: night\n      weekly: { from: "sun 00:00", to: "sun 04:00" }\n');
  it.each<[string, string, string, boolean, string | null]>([
    // Europe/London springs forward on 29 Mar (01:00 GMT → 02:00 BST): 00:00 GMT to 04:00 BST is three hours.
    ['London spring-forward: before', 'Europe/London', '2026-03-28T23:59:00Z', false, '2026-03-29T00:00:00Z'],
    ['London spring-forward: start 00:00 GMT', 'Europe/London', '2026-03-29T00:00:00Z', true, '2026-03-29T03:00:00Z'],
    ['London spring-forward: right after the change', 'Europe/London', '2026-03-29T01:00:00Z', true, '2026-03-29T03:00:00Z'],
    ['London spring-forward: last minute (03:59 BST)', 'Europe/London', '2026-03-29T02:59:00Z', true, '2026-03-29T03:00:00Z'],
    ['London spring-forward: end 04:00 BST = 03:00 UTC', 'Europe/London', '2026-03-29T03:00:00Z', false, '2026-04-04T23:00:00Z'],
    // Europe/London falls back on 25 Oct (02:00 BST → 01:00 GMT): 00:00 BST to 04:00 GMT is five hours.
    ['London fall-back: before (23:59 BST)', 'Europe/London', '2026-10-24T22:59:00Z', false, '2026-10-24T23:00:00Z'],
    ['London fall-back: start 00:00 BST = 23:00 UTC', 'Europe/London', '2026-10-24T23:00:00Z', true, '2026-10-25T04:00:00Z'],
    ['London fall-back: in the repeated hour', 'Europe/London', '2026-10-25T01:30:00Z', true, '2026-10-25T04:00:00Z'],
    ['London fall-back: last minute', 'Europe/London', '2026-10-25T03:59:00Z', true, '2026-10-25T04:00:00Z'],
    ['London fall-back: end 04:00 GMT', 'Europe/London', '2026-10-25T04:00:00Z', false, '2026-11-01T00:00:00Z'],
    ['London winter week: 00:00–04:00 UTC', 'Europe/London', '2026-01-11T03:59:00Z', true, '2026-01-11T04:00:00Z'],
    ['London summer week: 23:00–03:00 UTC', 'Europe/London', '2026-07-04T23:00:00Z', true, '2026-07-05T03:00:00Z'],
    // America/New_York springs forward on 8 Mar (02:00 EST → 03:00 EDT): 05:00 → 08:00 UTC.
    ['New York spring-forward: before', 'America/New_York', '2026-03-08T04:59:00Z', false, '2026-03-08T05:00:00Z'],
    ['New York spring-forward: start 00:00 EST', 'America/New_York', '2026-03-08T05:00:00Z', true, '2026-03-08T08:00:00Z'],
    ['New York spring-forward: last minute', 'America/New_York', '2026-03-08T07:59:00Z', true, '2026-03-08T08:00:00Z'],
    ['New York spring-forward: end 04:00 EDT = 08:00 UTC', 'America/New_York', '2026-03-08T08:00:00Z', false, '2026-03-15T04:00:00Z'],
    // America/New_York falls back on 1 Nov (02:00 EDT → 01:00 EST): 04:00 → 09:00 UTC.
    ['New York fall-back: before', 'America/New_York', '2026-11-01T03:59:00Z', false, '2026-11-01T04:00:00Z'],
    ['New York fall-back: start 00:00 EDT', 'America/New_York', '2026-11-01T04:00:00Z', true, '2026-11-01T09:00:00Z'],
    ['New York fall-back: repeated hour, second time', 'America/New_York', '2026-11-01T06:30:00Z', true, '2026-11-01T09:00:00Z'],
    ['New York fall-back: last minute', 'America/New_York', '2026-11-01T08:59:00Z', true, '2026-11-01T09:00:00Z'],
    ['New York fall-back: end 04:00 EST = 09:00 UTC', 'America/New_York', '2026-11-01T09:00:00Z', false, '2026-11-08T05:00:00Z'],
  ])('%s (%s %s)', (_name, zone, at, frozen, boundary) => expectState(weekly(zone), at, frozen, boundary));
});

describe('freezeState: one-off windows spanning the daylight-saving change end at the right UTC instant', () => {
  it.each<[string, string, string, string, string, string]>([
    ['London spring-forward', 'Europe/London', '2026-03-28 22:00', '2026-03-29 03:00', '2026-03-28T22:00:00Z', '2026-03-29T02:00:00Z'],
    ['London fall-back', 'Europe/London', '2026-10-24 22:00', '2026-10-25 03:00', '2026-10-24T21:00:00Z', '2026-10-25T03:00:00Z'],
    ['New York spring-forward', 'America/New_York', '2026-03-07 22:00', '2026-03-08 03:00', '2026-03-08T03:00:00Z', '2026-03-08T07:00:00Z'],
    ['New York fall-back', 'America/New_York', '2026-10-31 22:00', '2026-11-01 03:00', '2026-11-01T02:00:00Z', '2026-11-01T08:00:00Z'],
  ])('%s (%s %s → %s)', (_name, zone, from, to, startUtc, endUtc) => {
    const f = freeze(zone, `    - name: release\n      from: "${from}"\n      to: "${to}"\n`);
    const start = utc(startUtc);
    const end = utc(endUtc);
    expectState(f, iso(start.minus({ minutes: 1 }))!, false, startUtc);
    expectState(f, startUtc, true, endUtc);
    expectState(f, iso(end.minus({ minutes: 1 }))!, true, endUtc);
    expectState(f, endUtc, false, null);
  });
});

describe('freezeState: wall-clock times that do not exist or exist twice resolve as luxon does', () => {
  it.each<Row>([
    // 01:30 on 29 Mar does not exist in London; luxon moves it forward by the gap: 02:30 BST = 01:30 UTC.
    ['weekly end inside the spring-forward gap: frozen just before', '2026-03-29T01:29:00Z', true, '2026-03-29T01:30:00Z'],
    ['weekly end inside the spring-forward gap: ends at 01:30 UTC', '2026-03-29T01:30:00Z', false, '2026-04-04T21:00:00Z'],
  ])('%s', (_name, at, frozen, boundary) => {
    expectState(freeze('Europe/London', '    - name: late\n      weekly: { from: "sat 22:00", to: "sun 01:30" }\n'), at, frozen, boundary);
  });

  it.each<Row>([
    // "sun 01:30" → "sun 02:15" on 29 Mar resolves to 01:30 UTC → 01:15 UTC: empty that week, so the next freeze is a week later.
    ['weekly window lying in the gap is empty that day: before', '2026-03-28T12:00:00Z', false, '2026-04-05T00:30:00Z'],
    ['weekly window lying in the gap is empty that day: during', '2026-03-29T01:20:00Z', false, '2026-04-05T00:30:00Z'],
    ['weekly window lying in the gap holds the week after', '2026-04-05T00:30:00Z', true, '2026-04-05T01:15:00Z'],
  ])('%s', (_name, at, frozen, boundary) => {
    expectState(freeze('Europe/London', '    - name: gap\n      weekly: { from: "sun 01:30", to: "sun 02:15" }\n'), at, frozen, boundary);
  });

  it('a one-off window lying in the gap is empty: never frozen, no boundary', () => {
    const f = freeze('Europe/London', '    - name: gap\n      from: "2026-03-29 01:30"\n      to: "2026-03-29 02:15"\n');
    expectState(f, '2026-03-29T01:20:00Z', false, null);
    expectState(f, '2026-03-29T01:30:00Z', false, null);
  });

  it.each<Row>([
    // 01:30 on 25 Oct exists twice in London; luxon takes the later, GMT one: 01:30 UTC.
    ['one-off end at an ambiguous time: in the repeated hour (01:15 GMT)', '2026-10-25T01:15:00Z', true, '2026-10-25T01:30:00Z'],
    ['one-off end at an ambiguous time: ends 01:30 GMT', '2026-10-25T01:30:00Z', false, null],
  ])('%s', (_name, at, frozen, boundary) => {
    expectState(freeze('Europe/London', '    - name: overlap\n      from: "2026-10-25 00:00"\n      to: "2026-10-25 01:30"\n'), at, frozen, boundary);
  });
});

describe('freezeState: overlapping and chained windows form one freeze', () => {
  const chained = freeze(
    'UTC',
    '    - name: evening\n      weekly: { from: "fri 16:00", to: "sat 00:00" }\n    - name: weekend\n      weekly: { from: "sat 00:00", to: "mon 08:00" }\n',
  );
  it.each<[string, FreezePolicy, string, string, string]>([
    ['chained weekly windows: the end is the end of the second', chained, '2026-01-09T17:00:00Z', 'evening', '2026-01-12T08:00:00Z'],
    ['chained weekly windows: at the join, only the second holds', chained, '2026-01-10T00:00:00Z', 'weekend', '2026-01-12T08:00:00Z'],
    [
      'one-off overlapping a weekly window: the end is the later one',
      freeze('UTC', '    - name: release\n      from: "2026-01-09 12:00"\n      to: "2026-01-10 21:00"\n    - name: weekend\n      weekly: { from: "sat 20:00", to: "mon 06:00" }\n'),
      '2026-01-09T13:00:00Z',
      'release',
      '2026-01-12T06:00:00Z',
    ],
    [
      'inside both: both names',
      freeze('UTC', '    - name: release\n      from: "2026-01-09 12:00"\n      to: "2026-01-10 21:00"\n    - name: weekend\n      weekly: { from: "sat 20:00", to: "mon 06:00" }\n'),
      '2026-01-10T20:30:00Z',
      'release, weekend',
      '2026-01-12T06:00:00Z',
    ],
    [
      'a one-off ending where a weekly window starts, and that weekly window ending where another one-off starts',
      freeze(
        'UTC',
        '    - name: a\n      from: "2026-01-08 00:00"\n      to: "2026-01-10 20:00"\n    - name: weekend\n      weekly: { from: "sat 20:00", to: "mon 06:00" }\n    - name: b\n      from: "2026-01-12 06:00"\n      to: "2026-01-13 00:00"\n',
      ),
      '2026-01-08T00:00:00Z',
      'a',
      '2026-01-13T00:00:00Z',
    ],
    [
      'a window nested inside another does not shorten it',
      freeze('UTC', '    - name: outer\n      from: "2026-01-01 00:00"\n      to: "2026-02-01 00:00"\n    - name: inner\n      from: "2026-01-05 00:00"\n      to: "2026-01-06 00:00"\n'),
      '2026-01-05T12:00:00Z',
      'outer, inner',
      '2026-02-01T00:00:00Z',
    ],
  ])('%s', (_name, f, at, name, endsAt) => {
    const state = freezeState(f, utc(at));
    expect(state.active?.name).toBe(name);
    expect(iso(state.active?.endsAt)).toBe(endsAt);
    expect(iso(state.next)).toBe(endsAt);
  });

  it('the next start is the earliest of several future windows', () => {
    const f = freeze('UTC', '    - name: later\n      from: "2026-03-01 00:00"\n      to: "2026-03-02 00:00"\n    - name: weekend\n      weekly: { from: "sat 20:00", to: "mon 06:00" }\n');
    expect(iso(freezeState(f, utc('2026-01-13T00:00:00Z')).next)).toBe('2026-01-17T20:00:00Z');
  });

  it('no windows: never frozen, no boundary', () => {
    const state = freezeState(policy('freeze:\n  timezone: Europe/London\n').freeze!, utc('2026-01-13T00:00:00Z'));
    expect(state).toEqual({ active: null, next: null });
  });
});

describe('freezeState: pure, whatever the machine settings', () => {
  const defaultZone = Settings.defaultZone;
  const defaultLocale = Settings.defaultLocale;
  afterEach(() => {
    Settings.defaultZone = defaultZone;
    Settings.defaultLocale = defaultLocale;
  });

  it('gives the same answer with another default zone and locale', () => {
    const f = freeze('Europe/London', '    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 08:00" }\n');
    const ctx = { policy: policy('freeze:\n  timezone: Europe/London\n  windows:\n    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 08:00" }\n'), facts: makeFacts(), now: utc('2026-07-04T12:00:00Z') };
    const before = { state: freezeState(f, utc('2026-07-04T12:00:00Z')), rule: freezeRule(ctx) };
    Settings.defaultZone = 'Asia/Tokyo';
    Settings.defaultLocale = 'fr-FR';
    const after = { state: freezeState(f, DateTime.fromISO('2026-07-04T12:00:00Z')), rule: freezeRule({ ...ctx, now: DateTime.fromISO('2026-07-04T12:00:00Z') }) };
    expect(iso(after.state.active!.endsAt)).toBe(iso(before.state.active!.endsAt));
    expect(after.rule.reason).toBe(before.rule.reason);
    expect(after.rule.reason).toBe('frozen (weekend) until Mon 08:00 Europe/London (07:00 UTC)');
  });
});

describe('freezeRule', () => {
  const weekend = (zone: string, extra = '') =>
    policy(`freeze:\n  timezone: ${zone}\n  windows:\n    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 08:00" }\n${extra}`);
  const run = (p: Policy, at: string, facts = makeFacts()) => freezeRule({ policy: p, facts, now: utc(at) });

  it('skips without a freeze section', () => {
    expect(run(policy('size:\n  max_lines: 10\n'), '2026-01-10T12:00:00Z')).toEqual({ rule: 'freeze', outcome: 'skip', reason: 'not configured', details: [] });
  });

  it.each<[string, string, string, string]>([
    ['summer, London', 'Europe/London', '2026-07-04T12:00:00Z', 'frozen (weekend) until Mon 08:00 Europe/London (07:00 UTC)'],
    ['winter, London', 'Europe/London', '2026-01-10T12:00:00Z', 'frozen (weekend) until Mon 08:00 Europe/London (08:00 UTC)'],
    ['New York', 'America/New_York', '2026-01-10T12:00:00Z', 'frozen (weekend) until Mon 08:00 America/New_York (13:00 UTC)'],
    ['Sydney: the UTC day differs', 'Australia/Sydney', '2026-01-10T00:00:00Z', 'frozen (weekend) until Mon 08:00 Australia/Sydney (Sun 21:00 UTC)'],
    ['UTC is said once', 'UTC', '2026-01-10T12:00:00Z', 'frozen (weekend) until Mon 08:00 UTC'],
  ])('frozen → wait, the reason gives the end in the zone and in UTC (%s)', (_name, zone, at, reason) => {
    const result = run(weekend(zone), at);
    expect(result.outcome).toBe('wait');
    expect(result.reason).toBe(reason);
    expect(result.actionRequired).toBeUndefined();
    expect(result.details[0].message).toContain('re-evaluates');
  });

  it('adds the date when the end is more than six days away', () => {
    const p = policy('freeze:\n  timezone: Europe/London\n  windows:\n    - name: Havana release freeze\n      from: "2026-12-18 00:00"\n      to: "2027-01-04 09:00"\n');
    expect(run(p, '2026-12-20T10:00:00Z').reason).toBe('frozen (Havana release freeze) until Mon 2027-01-04 09:00 Europe/London (2027-01-04 09:00 UTC)');
    // Five days before the end: weekday and time only.
    expect(run(p, '2026-12-30T10:00:00Z').reason).toBe('frozen (Havana release freeze) until Mon 09:00 Europe/London (09:00 UTC)');
  });

  it.each<[string, string, string, string[]]>([
    [
      'mentions a weekly freeze starting within 7 days',
      '    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 08:00" }\n',
      '2026-01-07T12:00:00Z',
      ['next freeze (weekend) starts Fri 16:00 Europe/London (16:00 UTC)'],
    ],
    [
      'mentions a one-off freeze starting within 7 days (UTC day differs)',
      '    - name: far\n      from: "2026-06-01 00:00"\n      to: "2026-06-02 00:00"\n',
      '2026-05-28T00:00:00Z',
      ['next freeze (far) starts Mon 00:00 Europe/London (Sun 23:00 UTC)'],
    ],
    ['says nothing of a freeze more than 7 days away', '    - name: far\n      from: "2026-06-01 00:00"\n      to: "2026-06-02 00:00"\n', '2026-05-20T00:00:00Z', []],
  ])('not frozen → pass and %s', (_name, windows, at, messages) => {
    const result = run(policy(`freeze:\n  timezone: Europe/London\n  windows:\n${windows}`), at);
    expect(result.outcome).toBe('pass');
    expect(result.reason).toBe('not frozen');
    expect(result.details.map((d) => d.message)).toEqual(messages);
  });

  it('not frozen and no future windows → pass with no details', () => {
    const p = policy('freeze:\n  windows:\n    - name: old\n      from: "2025-01-01 00:00"\n      to: "2025-01-02 00:00"\n');
    expect(run(p, '2026-01-07T12:00:00Z')).toEqual({ rule: 'freeze', outcome: 'pass', reason: 'not frozen', details: [] });
  });

  describe('freeze exception', () => {
    const p = weekend('Europe/London', '  exception:\n    label: freeze-exception\n    required: 3\n');
    const frozenAt = '2026-07-04T12:00:00Z';
    const approvals = (n: number) => Array.from({ length: n }, (_, i) => review(`reviewer${i}`, 'APPROVED'));

    it.each<[string, string[], number, string, string, boolean | undefined]>([
      ['label with enough approvals → pass', ['freeze-exception'], 3, 'pass', 'frozen (weekend) but freeze-exception with 3 / 3 approvals', undefined],
      ['label with more than enough approvals → pass', ['freeze-exception'], 4, 'pass', 'frozen (weekend) but freeze-exception with 4 / 3 approvals', undefined],
      ['label in another case counts', ['Freeze-Exception'], 3, 'pass', 'frozen (weekend) but freeze-exception with 3 / 3 approvals', undefined],
      ['label with too few approvals → fail, action required', ['freeze-exception'], 1, 'fail', 'freeze exception needs 3 approvals, has 1', true],
      ['label with no approvals → fail', ['freeze-exception'], 0, 'fail', 'freeze exception needs 3 approvals, has 0', true],
      ['approvals without the label → wait', ['other'], 3, 'wait', 'frozen (weekend) until Mon 08:00 Europe/London (07:00 UTC)', undefined],
    ])('%s', (_name, labels, n, outcome, reason, actionRequired) => {
      const result = run(p, frozenAt, makeFacts({ labels, reviews: approvals(n) }));
      expect(result.outcome).toBe(outcome);
      expect(result.reason).toBe(reason);
      expect(result.actionRequired).toBe(actionRequired);
    });

    it('counts approvals as the reviews rule does: the author does not count', () => {
      const reviews = [...approvals(2), review('author', 'APPROVED')];
      const result = run(p, frozenAt, makeFacts({ labels: ['freeze-exception'], reviews }));
      expect(result.reason).toBe('freeze exception needs 3 approvals, has 2');
    });

    it('follows reviews.fresh: approvals of an older commit do not count', () => {
      const fresh = policy(
        'reviews:\n  fresh: true\nfreeze:\n  timezone: Europe/London\n  windows:\n    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 08:00" }\n  exception:\n    required: 2\n',
      );
      const reviews = [review('a', 'APPROVED'), review('b', 'APPROVED', { commitSha: 'c'.repeat(40) })];
      expect(run(fresh, frozenAt, makeFacts({ labels: ['freeze-exception'], reviews })).reason).toBe('freeze exception needs 2 approvals, has 1');
    });

    it('is irrelevant when not frozen', () => {
      const result = run(p, '2026-07-07T12:00:00Z', makeFacts({ labels: ['freeze-exception'], reviews: [] }));
      expect(result.outcome).toBe('pass');
      expect(result.reason).toBe('not frozen');
    });

    it('tells a waiting pull request about the exception', () => {
      const result = run(p, frozenAt);
      expect(result.details.map((d) => d.message)).toContain('a pull request labelled freeze-exception with 3 approvals may land during the freeze');
    });
  });

  it('a freeze that never ends waits and says so', () => {
    const p = policy('freeze:\n  windows:\n    - name: closed\n      weekly: { from: "mon 00:00", to: "sun 24:00" }\n');
    const result = run(p, '2026-01-07T12:00:00Z');
    expect(result.outcome).toBe('wait');
    expect(result.reason).toBe('frozen (closed) with no end (the weekly windows cover the whole week)');
  });
});

describe('nextFreezeBoundary', () => {
  it('is null without a freeze section', () => {
    expect(nextFreezeBoundary(policy('size:\n  max_lines: 10\n'), utc('2026-01-07T12:00:00Z'))).toBeNull();
  });
  it.each<[string, string]>([
    ['2026-01-07T12:00:00Z', '2026-01-09T16:00:00Z'],
    ['2026-01-10T12:00:00Z', '2026-01-12T08:00:00Z'],
  ])('at %s is %s', (at, next) => {
    const p = policy('freeze:\n  windows:\n    - name: weekend\n      weekly: { from: "fri 16:00", to: "mon 08:00" }\n');
    expect(iso(nextFreezeBoundary(p, utc(at)))).toBe(next);
  });
});
