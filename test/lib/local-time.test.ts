import { describe, expect, it } from 'vitest';
import {
  formatInZone,
  formatOffset,
  isLocalTime,
  localTimeToInstant,
  LocalTimeInvalid,
  parseLocalTime,
  zoneOffsetAt,
} from '../../src/lib/local-time.js';

const iso = (local: string, zone: string) => new Date(localTimeToInstant(local, zone)).toISOString();

function refusal(local: string, zone: string): LocalTimeInvalid {
  try {
    localTimeToInstant(local, zone);
  } catch (error) {
    if (error instanceof LocalTimeInvalid) return error;
    throw error;
  }
  throw new Error(`${local} in ${zone} was accepted`);
}

describe('local time → UTC', () => {
  it('Asia/Tokyo has no daylight saving: 09:00 is 00:00Z all year', () => {
    expect(iso('2027-09-22T09:00', 'Asia/Tokyo')).toBe('2027-09-22T00:00:00.000Z');
    expect(iso('2027-01-15T09:00', 'Asia/Tokyo')).toBe('2027-01-15T00:00:00.000Z');
    expect(iso('2027-09-22T00:30:15', 'Asia/Tokyo')).toBe('2027-09-21T15:30:15.000Z');
  });

  it('UTC is itself, across a year end', () => {
    expect(iso('2027-12-31T23:59:59', 'UTC')).toBe('2027-12-31T23:59:59.000Z');
  });

  it('Europe/London: GMT in winter, BST in summer, either side of both changes', () => {
    expect(iso('2027-03-27T09:00', 'Europe/London')).toBe('2027-03-27T09:00:00.000Z');
    expect(iso('2027-03-28T00:59', 'Europe/London')).toBe('2027-03-28T00:59:00.000Z');
    expect(iso('2027-03-28T02:00', 'Europe/London')).toBe('2027-03-28T01:00:00.000Z');
    expect(iso('2027-03-29T09:00', 'Europe/London')).toBe('2027-03-29T08:00:00.000Z');
    expect(iso('2027-10-30T09:00', 'Europe/London')).toBe('2027-10-30T08:00:00.000Z');
    expect(iso('2027-10-31T09:00', 'Europe/London')).toBe('2027-10-31T09:00:00.000Z');
  });

  it('Europe/London: the spring gap (01:00–02:00 on 2027-03-28) is refused and named', () => {
    const error = refusal('2027-03-28T01:30', 'Europe/London');
    expect(error.reason).toBe('gap');
    expect(error.gap).toEqual({ from: '2027-03-28T01:00', to: '2027-03-28T02:00' });
    expect(error.message).toContain('does not exist in Europe/London');
  });

  it('Europe/London: the autumn overlap (01:30 twice on 2027-10-31) is the earlier instant, in BST', () => {
    expect(iso('2027-10-31T01:30', 'Europe/London')).toBe('2027-10-31T00:30:00.000Z');
    expect(iso('2027-10-31T02:00', 'Europe/London')).toBe('2027-10-31T02:00:00.000Z');
  });

  it('America/New_York: EST and EDT either side of both changes', () => {
    expect(iso('2027-03-13T09:00', 'America/New_York')).toBe('2027-03-13T14:00:00.000Z');
    expect(iso('2027-03-14T01:59', 'America/New_York')).toBe('2027-03-14T06:59:00.000Z');
    expect(iso('2027-03-14T03:00', 'America/New_York')).toBe('2027-03-14T07:00:00.000Z');
    expect(iso('2027-09-22T09:00', 'America/New_York')).toBe('2027-09-22T13:00:00.000Z');
    expect(iso('2027-11-07T09:00', 'America/New_York')).toBe('2027-11-07T14:00:00.000Z');
  });

  it('America/New_York: 2027-03-14T02:30 does not exist and is refused, naming the gap', () => {
    const error = refusal('2027-03-14T02:30', 'America/New_York');
    expect(error.reason).toBe('gap');
    expect(error.gap).toEqual({ from: '2027-03-14T02:00', to: '2027-03-14T03:00' });
    expect(error.message).toBe(
      '2027-03-14T02:30 does not exist in America/New_York: on 2027-03-14 the clocks jump from 02:00 to 03:00. Choose a time outside the gap.',
    );
    expect(refusal('2027-03-14T02:00', 'America/New_York').reason).toBe('gap');
    expect(refusal('2027-03-14T02:59:59', 'America/New_York').reason).toBe('gap');
  });

  it('America/New_York: 2027-11-07T01:30 happens twice; the earlier (EDT, -04:00) is taken', () => {
    const instant = localTimeToInstant('2027-11-07T01:30', 'America/New_York');
    expect(new Date(instant).toISOString()).toBe('2027-11-07T05:30:00.000Z');
    expect(formatInZone(instant, 'America/New_York')).toBe('2027-11-07T01:30:00-04:00');
    // The second 01:30 (EST) is an hour later and shows the same wall clock.
    expect(formatInZone(instant + 3_600_000, 'America/New_York')).toBe('2027-11-07T01:30:00-05:00');
  });

  it('Australia/Lord_Howe: a 30-minute change, gap and overlap', () => {
    expect(iso('2027-07-01T09:00', 'Australia/Lord_Howe')).toBe('2027-06-30T22:30:00.000Z');
    expect(iso('2027-12-01T09:00', 'Australia/Lord_Howe')).toBe('2027-11-30T22:00:00.000Z');
    const gap = refusal('2027-10-03T02:15', 'Australia/Lord_Howe');
    expect(gap.gap).toEqual({ from: '2027-10-03T02:00', to: '2027-10-03T02:30' });
    // 01:45 on 2027-04-04 happens at +11:00 and again at +10:30; the earlier wins.
    expect(iso('2027-04-04T01:45', 'Australia/Lord_Howe')).toBe('2027-04-03T14:45:00.000Z');
  });

  it('Asia/Kathmandu: +05:45', () => {
    expect(iso('2027-09-22T09:00', 'Asia/Kathmandu')).toBe('2027-09-22T03:15:00.000Z');
    expect(formatOffset(zoneOffsetAt(Date.UTC(2027, 8, 22), 'Asia/Kathmandu'))).toBe('+05:45');
  });

  it('refuses dates and times that no calendar has, and other shapes', () => {
    for (const bad of ['2027-02-30T09:00', '2027-02-29T09:00', '2027-13-01T09:00', '2027-04-31T09:00', '2027-09-22T24:00', '2027-09-22T09:60']) {
      expect(refusal(bad, 'Asia/Tokyo').reason).toBe('date');
      expect(isLocalTime(bad)).toBe(false);
    }
    for (const bad of ['2027-09-22 09:00', '2027-09-22T09:00Z', '2027-09-22T09:00+09:00', '2027-09-22', '27-09-22T09:00', '2027-09-22T9:00']) {
      expect(refusal(bad, 'Asia/Tokyo').reason).toBe('format');
    }
    expect(parseLocalTime('2028-02-29T23:59:59')).toEqual({ year: 2028, month: 2, day: 29, hour: 23, minute: 59, second: 59 });
  });
});

describe('UTC → local time', () => {
  it('formats an instant as the wall clock shows it, with the offset', () => {
    expect(formatInZone(Date.UTC(2027, 8, 22, 0, 0), 'Asia/Tokyo')).toBe('2027-09-22T09:00:00+09:00');
    expect(formatInZone(Date.UTC(2027, 0, 1, 0, 0), 'Europe/London')).toBe('2027-01-01T00:00:00+00:00');
    expect(formatInZone(Date.UTC(2027, 6, 1, 12, 0), 'America/New_York')).toBe('2027-07-01T08:00:00-04:00');
  });

  it('round-trips every 3½ hours through a year in zones with DST (gaps aside)', () => {
    for (const zone of ['America/New_York', 'Europe/London', 'Australia/Lord_Howe']) {
      for (let instant = Date.UTC(2027, 0, 1); instant < Date.UTC(2028, 0, 1); instant += 210 * 60_000) {
        const local = formatInZone(instant, zone).slice(0, 19);
        const back = localTimeToInstant(local, zone);
        // In an overlap the earlier of the two instants comes back.
        expect(back === instant || back < instant).toBe(true);
        expect(formatInZone(back, zone).slice(0, 19)).toBe(local);
      }
    }
  });
});
