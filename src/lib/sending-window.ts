import type { SendingWindow } from '../db/schema.js';
import { localFieldsAt, localTimeToInstant, LocalTimeInvalid } from './local-time.js';

/**
 * Local opening hours for letters to targets: an office is written to on its
 * working days, between `start` and `end` on its own wall clock. Pure, on the
 * same `Intl`-only helpers as src/lib/local-time.ts, so daylight-saving
 * changes are handled by the zone's own rules.
 *
 * `start` is inclusive and `end` exclusive (`24:00` is the end of the day);
 * `days` are ISO weekdays, 1 = Monday … 7 = Sunday, of the local date.
 */

/** Office hours: 09:00–17:00, Monday to Friday (the default for letters by email). */
export const OFFICE_HOURS: SendingWindow = { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };

const DAY = 86_400_000;
const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The first instant at which the wall clock in `timeZone` shows `local` or later (past a DST gap: the end of the gap). */
function instantOfLocal(local: string, timeZone: string): number {
  try {
    return localTimeToInstant(local, timeZone);
  } catch (error) {
    // 02:30 on a spring-forward night never happens; the window opens when the clocks land on 03:00.
    if (error instanceof LocalTimeInvalid && error.gap) return localTimeToInstant(error.gap.to, timeZone);
    throw error;
  }
}

/** The local date `offset` days after (year, month, day), as `YYYY-MM-DD`, with its ISO weekday. */
function localDate(year: number, month: number, day: number, offset: number): { date: string; weekday: number } {
  const at = new Date(Date.UTC(year, month - 1, day) + offset * DAY);
  const date = `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
  return { date, weekday: at.getUTCDay() === 0 ? 7 : at.getUTCDay() };
}

/** The window's opening and closing instants on one local date. */
function bounds(window: SendingWindow, date: string, next: string, timeZone: string): { opens: number; closes: number } {
  const opens = instantOfLocal(`${date}T${window.start}`, timeZone);
  const closes = window.end === '24:00' ? instantOfLocal(`${next}T00:00`, timeZone) : instantOfLocal(`${date}T${window.end}`, timeZone);
  return { opens, closes };
}

/**
 * The first instant at or after `instant` that lies inside `window` on the
 * wall clock of `timeZone`: `instant` itself when the window is open then,
 * else the next opening (a Saturday → Monday `start`; after `end` → the next
 * listed day's `start`). A null window is always open.
 */
export function nextWindowOpening(instant: number, window: SendingWindow | null, timeZone: string): number {
  if (window === null) return instant;
  if (window.days.length === 0) throw new RangeError('A sending window needs at least one day');
  const here = localFieldsAt(instant, timeZone);
  // Eight local dates always include each weekday once after today's.
  for (let offset = 0; offset <= 8; offset++) {
    const { date, weekday } = localDate(here.year, here.month, here.day, offset);
    if (!window.days.includes(weekday)) continue;
    const { opens, closes } = bounds(window, date, localDate(here.year, here.month, here.day, offset + 1).date, timeZone);
    if (instant < closes) return Math.max(instant, opens);
  }
  throw new RangeError('No opening of the sending window within eight days');
}

/** True when `instant` lies inside `window` in `timeZone` (always, for a null window). */
export function isInsideWindow(instant: number, window: SendingWindow | null, timeZone: string): boolean {
  return nextWindowOpening(instant, window, timeZone) === instant;
}

const clockTime = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** `HH:mm` from 00:00 to 23:59, or 24:00 (end of the day, for `end` only). */
export function isClockTime(text: string): boolean {
  return clockTime.test(text);
}
