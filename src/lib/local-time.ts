/**
 * Wall-clock times in IANA time zones, with nothing but `Intl.DateTimeFormat`
 * (no time-zone database of our own, so it runs on Node and Workers alike).
 *
 * A wall-clock time is `YYYY-MM-DDTHH:mm` or `YYYY-MM-DDTHH:mm:ss`, without an
 * offset: "09:00 in Tokyo", as an organiser thinks of an event day.
 *
 * Daylight-saving rules:
 * - **Gap** (a local time that never happens, e.g. 2027-03-14T02:30 in
 *   America/New_York, when clocks jump from 02:00 to 03:00): refused with
 *   `LocalTimeInvalid` (`reason: 'gap'`), which names the gap. A mailing set
 *   for a time that does not exist is more likely a mistake than an intent,
 *   and shifting it silently would send at a time nobody chose.
 * - **Overlap** (a local time that happens twice, e.g. 2027-11-07T01:30 in
 *   America/New_York, once in EDT and again in EST): the earlier instant, the
 *   first time the clock on the wall shows it.
 */

const LOCAL_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const MINUTE = 60_000;
const DAY = 86_400_000;

/** The fields of a wall-clock time. */
export type LocalFields = { year: number; month: number; day: number; hour: number; minute: number; second: number };

/** Why a wall-clock time cannot be turned into an instant. */
export class LocalTimeInvalid extends Error {
  constructor(
    readonly reason: 'format' | 'date' | 'gap',
    message: string,
    /** For a gap: the wall-clock times on either side of the jump. */
    readonly gap?: { from: string; to: string },
  ) {
    super(message);
    this.name = 'LocalTimeInvalid';
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Reads `YYYY-MM-DDTHH:mm[:ss]`; throws `LocalTimeInvalid` for another shape
 * (`format`) or a date or time that no calendar has, such as 2027-02-30 or 24:00 (`date`).
 */
export function parseLocalTime(text: string): LocalFields {
  const match = LOCAL_PATTERN.exec(text);
  if (!match) throw new LocalTimeInvalid('format', `"${text}" is not a local date-time like 2027-09-22T09:00.`);
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new LocalTimeInvalid('date', `"${text}" is not a real date and time.`);
  }
  return { year, month, day, hour, minute, second };
}

/** True when `text` is a well-formed, real wall-clock time (it may still fall in a DST gap). */
export function isLocalTime(text: string): boolean {
  try {
    parseLocalTime(text);
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock fields shown in `timeZone` at `instant` (whole seconds). */
export function localFieldsAt(instant: number, timeZone: string): LocalFields {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) parts[part.type] = part.value;
  const year = Number(parts.year);
  return {
    year: parts.era === 'BC' ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

function fieldsAsUtc(fields: LocalFields): number {
  const ms = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second);
  // Date.UTC maps years 0-99 to 1900-1999.
  return fields.year >= 0 && fields.year < 100 ? new Date(ms).setUTCFullYear(fields.year) : ms;
}

/** The zone's offset from UTC at `instant`, in milliseconds (e.g. +9 h for Asia/Tokyo). */
export function zoneOffsetAt(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return fieldsAsUtc(localFieldsAt(whole, timeZone)) - whole;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function formatFields(fields: LocalFields, withSeconds: boolean): string {
  const date = `${pad(fields.year, 4)}-${pad(fields.month)}-${pad(fields.day)}T${pad(fields.hour)}:${pad(fields.minute)}`;
  return withSeconds ? `${date}:${pad(fields.second)}` : date;
}

/** `+09:00`, `-04:00`, `+05:45`. */
export function formatOffset(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / MINUTE);
  return `${offsetMs < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/**
 * An instant as the wall clock in `timeZone` shows it, with the offset, for
 * display: `2027-09-22T09:00:00+09:00`.
 */
export function formatInZone(instant: number, timeZone: string): string {
  return `${formatFields(localFieldsAt(instant, timeZone), true)}${formatOffset(zoneOffsetAt(instant, timeZone))}`;
}

/**
 * The instant (ms since the epoch, UTC) at which the wall clock in `timeZone`
 * shows `local`. The offset is taken at a first guess and then again at the
 * instant that guess gives (two passes), which settles it on either side of a
 * change. Because a change can make a time happen twice, both the offset in
 * force a day before and a day after are tried as well, and the earliest
 * instant that really shows `local` wins; if none does, `local` is in a gap.
 * Throws `LocalTimeInvalid` for a malformed or unreal time and for a gap.
 */
export function localTimeToInstant(local: string, timeZone: string): number {
  const fields = parseLocalTime(local);
  const wall = fieldsAsUtc(fields);
  const firstPass = wall - zoneOffsetAt(wall, timeZone);
  const secondPass = wall - zoneOffsetAt(firstPass, timeZone);
  const offsets = new Set([
    zoneOffsetAt(secondPass, timeZone),
    zoneOffsetAt(firstPass, timeZone),
    zoneOffsetAt(wall - DAY, timeZone),
    zoneOffsetAt(wall + DAY, timeZone),
  ]);
  const matches = [...offsets].map((offset) => wall - offset).filter((instant) => zoneOffsetAt(instant, timeZone) === wall - instant);
  if (matches.length > 0) return Math.min(...matches);
  throw gapError(local, timeZone, wall);
}

function wallToFields(wall: number): LocalFields {
  const date = new Date(wall);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
  };
}

/** Finds the jump around a nonexistent `wall` time, to name it in the error. */
function gapError(local: string, timeZone: string, wall: number): LocalTimeInvalid {
  const before = zoneOffsetAt(wall - DAY, timeZone);
  const after = zoneOffsetAt(wall + DAY, timeZone);
  // The change happens between these instants; narrow it down to the second.
  // A gap means the offset grows (before < after), so this range is ordered.
  let low = wall - after;
  let high = wall - before;
  while (high - low > 1000) {
    const middle = Math.floor((low + high) / 2000) * 1000;
    if (zoneOffsetAt(middle, timeZone) === before) low = middle;
    else high = middle;
  }
  const from = formatFields(wallToFields(high + before), false);
  const to = formatFields(wallToFields(high + after), false);
  return new LocalTimeInvalid(
    'gap',
    `${local} does not exist in ${timeZone}: on ${from.slice(0, 10)} the clocks jump from ${from.slice(11)} to ${to.slice(11)}. Choose a time outside the gap.`,
    { from, to },
  );
}
