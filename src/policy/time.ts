// Parsing of the policy's times. Shared by validation and the freeze rule so
// that what validates is exactly what the rule understands.
import { DateTime, IANAZone } from 'luxon';

export function isValidZone(zone: string): boolean {
  return zone === 'UTC' || IANAZone.isValidZone(zone);
}

/** "2026-12-18 00:00" in `zone`, or null when it is not a real date and time. */
export function parseLocalDateTime(value: string, zone: string): DateTime | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  if (hour > 23 || minute > 59) return null;
  const dt = DateTime.fromObject({ year, month, day, hour, minute }, { zone });
  // luxon rolls 2026-02-30 over silently; reject anything that is not the date written.
  if (!dt.isValid || dt.year !== year || dt.month !== month || dt.day !== day) return null;
  return dt;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** A point in the week: weekday 1 (Monday) … 7 (Sunday) and minutes after midnight. */
export interface WeeklyPoint {
  weekday: number;
  minutes: number;
}

/** "fri 16:00" (also "Friday 16:00") → { weekday: 5, minutes: 960 }, or null. */
export function parseWeeklyPoint(value: string): WeeklyPoint | null {
  const m = /^\s*([A-Za-z]+)\s+(\d{1,2}):(\d{2})\s*$/.exec(value);
  if (!m) return null;
  const name = m[1].toLowerCase();
  const index = WEEKDAYS.findIndex((d, i) => name === d || name === WEEKDAY_NAMES[i]);
  const hour = Number(m[2]);
  const minute = Number(m[3]);
  if (index < 0 || hour > 24 || minute > 59 || (hour === 24 && minute !== 0)) return null;
  return { weekday: index + 1, minutes: hour * 60 + minute };
}
