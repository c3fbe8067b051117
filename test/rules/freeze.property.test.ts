// Properties of freezeState for random windows, zones and instants:
// - frozen or not agrees with an independent, day-by-day oracle;
// - the state is constant on [t, next) and differs at `next`;
// - with no `next`, the state never changes again;
// - a frozen state's `endsAt` is its `next`.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { loadPolicyText } from '../../src/policy/load.js';
import type { FreezePolicy } from '../../src/policy/schema.js';
import { freezeState } from '../../src/rules/freeze.js';
import { parseWeeklyPoint } from '../../src/policy/time.js';

const ZONES = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'UTC'] as const;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
// Days around the 2026 daylight-saving changes of the zones above.
const DST_DAYS = ['2025-10-05', '2025-10-26', '2025-11-02', '2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01', '2027-03-14', '2027-03-28'];

type Weekly = { kind: 'weekly'; name: string; from: string; to: string };
type OneOff = { kind: 'once'; name: string; from: string; to: string };
type Window = Weekly | OneOff;

const pad = (n: number) => String(n).padStart(2, '0');
// Hours around the small hours (where the clocks change) are favoured.
const hour = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 23 }));
const minute = fc.oneof(fc.constantFrom(0, 30), fc.integer({ min: 0, max: 59 }));
const weeklyPoint = fc.oneof(
  { weight: 9, arbitrary: fc.tuple(fc.constantFrom(...DAYS), hour, minute).map(([d, h, m]) => `${d} ${pad(h)}:${pad(m)}`) },
  { weight: 1, arbitrary: fc.constantFrom(...DAYS).map((d) => `${d} 24:00`) },
);
const day = fc.oneof(
  fc.constantFrom(...DST_DAYS).chain((d) => fc.integer({ min: -3, max: 1 }).map((k) => DateTime.fromISO(d, { zone: 'utc' }).plus({ days: k }))),
  fc.integer({ min: 0, max: 700 }).map((k) => DateTime.utc(2025, 9, 1).plus({ days: k })),
);
// One-off windows are written as wall-clock text; the end is a whole number of minutes later on the wall clock.
const oneOff = fc
  .tuple(day, hour, minute, fc.oneof(fc.integer({ min: 1, max: 180 }), fc.integer({ min: 1, max: 20 * 24 * 60 })))
  .map(([d, h, m, len]) => {
    const from = d.set({ hour: h, minute: m });
    return { from: from.toFormat('yyyy-MM-dd HH:mm'), to: from.plus({ minutes: len }).toFormat('yyyy-MM-dd HH:mm') };
  });
const WEEK_MINUTES = 7 * 1440;
/** The instant of the week a point names, wrapping at the end of the week: `sun 24:00` is `mon 00:00`. */
function minuteOfWeek(point: string): number {
  const p = parseWeeklyPoint(point)!;
  return ((p.weekday - 1) * 1440 + p.minutes) % WEEK_MINUTES;
}
const windowArb: fc.Arbitrary<Omit<Window, 'name'>> = fc.oneof(
  fc
    .tuple(weeklyPoint, weeklyPoint)
    // An empty span (from and to the same instant of the week) is a policy error.
    .filter(([from, to]) => minuteOfWeek(from) !== minuteOfWeek(to))
    .map(([from, to]) => ({ kind: 'weekly' as const, from, to })),
  oneOff.map((w) => ({ kind: 'once' as const, ...w })),
);
const windowsArb = fc.array(windowArb, { minLength: 0, maxLength: 4 }).map((ws) => ws.map((w, i) => ({ ...w, name: `w${i}` }) as Window));

const instant = fc.oneof(
  // Minute-aligned instants near the changes, so boundaries are hit exactly.
  fc.tuple(fc.constantFrom(...DST_DAYS), fc.integer({ min: -3 * 24 * 60, max: 3 * 24 * 60 })).map(([d, k]) => DateTime.fromISO(d, { zone: 'utc' }).plus({ minutes: k })),
  fc.integer({ min: Date.UTC(2025, 8, 1), max: Date.UTC(2027, 6, 1) }).map((ms) => DateTime.fromMillis(ms, { zone: 'utc' })),
);

function toYaml(zone: string, windows: readonly Window[]): string {
  const lines = ['preset: none', 'freeze:', `  timezone: ${zone}`, '  windows:'];
  if (windows.length === 0) lines[3] = '  windows: []';
  for (const w of windows) {
    lines.push(`    - name: ${w.name}`);
    if (w.kind === 'weekly') lines.push(`      weekly: { from: "${w.from}", to: "${w.to}" }`);
    else lines.push(`      from: "${w.from}"`, `      to: "${w.to}"`);
  }
  return `${lines.join('\n')}\n`;
}

function load(zone: string, windows: readonly Window[]): FreezePolicy {
  const result = loadPolicyText(toYaml(zone, windows));
  if (!result.ok) throw new Error(`generator made an invalid policy: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.policy.freeze!;
}

/**
 * An independent oracle: frozen when some window holds. Weekly windows are laid
 * out day by day: from each local day with the `from` weekday, the window lasts
 * the number of wall-clock minutes between `from` and `to` in the week.
 */
function oracle(zone: string, windows: readonly Window[], at: DateTime): boolean {
  const ms = at.toMillis();
  const local = (d: DateTime, minutes: number) =>
    DateTime.fromObject({ year: d.year, month: d.month, day: d.day }, { zone: 'utc' })
      .plus({ minutes })
      .toObject();
  const instantOf = (o: ReturnType<typeof local>) => DateTime.fromObject({ year: o.year, month: o.month, day: o.day, hour: o.hour, minute: o.minute }, { zone }).toMillis();
  for (const w of windows) {
    if (w.kind === 'once') {
      const start = DateTime.fromFormat(w.from, 'yyyy-MM-dd HH:mm', { zone }).toMillis();
      const end = DateTime.fromFormat(w.to, 'yyyy-MM-dd HH:mm', { zone }).toMillis();
      if (start <= ms && ms < end) return true;
      continue;
    }
    const key = (p: string) => {
      const [d, hm] = p.split(' ');
      const [h, m] = hm.split(':').map(Number);
      return DAYS.indexOf(d as (typeof DAYS)[number]) * 1440 + h * 60 + m;
    };
    const a = key(w.from);
    const b = key(w.to);
    if (a === b) continue;
    const length = b > a ? b - a : b + 7 * 1440 - a;
    const today = at.setZone(zone);
    for (let k = -16; k <= 1; k++) {
      const d = DateTime.utc(today.year, today.month, today.day).plus({ days: k });
      if (d.weekday - 1 !== Math.floor(a / 1440) % 7) continue;
      const fromMinutes = a % 1440; // "sun 24:00" starts on the Monday after
      const start = instantOf(local(d, fromMinutes));
      const end = instantOf(local(d, fromMinutes + length));
      if (start < end && start <= ms && ms < end) return true;
    }
  }
  return false;
}

const frozen = (f: FreezePolicy, at: DateTime) => freezeState(f, at).active !== null;

const agreesWithOracle = fc.property(
  fc.constantFrom(...ZONES),
  windowsArb,
  instant,
  fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true, minExcluded: true }), { minLength: 1, maxLength: 4 }),
  (zone, windows, t, fractions) => {
    const f = load(zone, windows);
    const state = freezeState(f, t);
    const isFrozen = state.active !== null;
    expect(isFrozen).toBe(oracle(zone, windows, t));
    if (state.active && state.active.endsAt) expect(state.active.endsAt.toMillis()).toBe(state.next?.toMillis());
    if (state.active && !state.active.endsAt) expect(state.next).toBeNull();

    const t0 = t.toMillis();
    if (state.next) {
      const next = state.next.toMillis();
      expect(next).toBeGreaterThan(t0);
      const samples = [t0 + 1, next - 1, ...fractions.map((x) => t0 + Math.floor((next - t0) * x))].filter((s) => s > t0 && s < next);
      for (const s of samples) {
        const at = DateTime.fromMillis(s, { zone: 'utc' });
        expect(frozen(f, at)).toBe(isFrozen);
        expect(oracle(zone, windows, at)).toBe(isFrozen);
      }
      expect(frozen(f, state.next)).toBe(!isFrozen);
      expect(oracle(zone, windows, state.next)).toBe(!isFrozen);
    } else {
      // Nothing changes again: sample the next two years.
      for (const x of fractions) {
        const at = DateTime.fromMillis(t0 + 1 + Math.floor(x * 2 * 365 * 86_400_000), { zone: 'utc' });
        expect(frozen(f, at)).toBe(isFrozen);
      }
    }
  },
);

describe('freezeState properties', () => {
  it('agrees with the oracle, and the state is constant on [t, next) and differs at next', () => {
    fc.assert(agreesWithOracle, { numRuns: 400 });
  });

  it('replays the seed that once generated the empty window "sun 24:00" to "mon 00:00"', () => {
    expect(minuteOfWeek('sun 24:00')).toBe(minuteOfWeek('mon 00:00'));
    fc.assert(agreesWithOracle, { seed: -250344301, path: '106:0:1:2:2' });
  });

  it('the active freeze names exactly the windows the oracle says hold', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), windowsArb, instant, (zone, windows, t) => {
        const state = freezeState(load(zone, windows), t);
        const holding = windows.filter((w) => oracle(zone, [w], t)).map((w) => w.name);
        expect(state.active ? state.active.name.split(', ') : []).toEqual(holding);
      }),
      { numRuns: 300 },
    );
  });
});
