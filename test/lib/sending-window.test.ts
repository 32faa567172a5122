import { describe, expect, it } from 'vitest';
import { localTimeToInstant } from '../../src/lib/local-time.js';
import { isClockTime, isInsideWindow, nextWindowOpening, OFFICE_HOURS } from '../../src/lib/sending-window.js';

const at = (local: string, zone: string) => localTimeToInstant(local, zone);
const next = (local: string, zone: string, window = OFFICE_HOURS) => new Date(nextWindowOpening(at(local, zone), window, zone)).toISOString();

describe('nextWindowOpening (office hours 09:00–17:00, Monday–Friday)', () => {
  it('an instant inside the window is its own opening', () => {
    // 2027-09-24 is a Friday.
    expect(next('2027-09-24T16:59', 'Asia/Tokyo')).toBe('2027-09-24T07:59:00.000Z');
    expect(next('2027-09-22T09:00', 'Asia/Tokyo')).toBe('2027-09-22T00:00:00.000Z');
    expect(isInsideWindow(at('2027-09-24T16:59:59', 'Asia/Tokyo'), OFFICE_HOURS, 'Asia/Tokyo')).toBe(true);
  });

  it('before the opening on a working day: that day at 09:00', () => {
    expect(next('2027-09-22T07:15', 'Asia/Tokyo')).toBe('2027-09-22T00:00:00.000Z');
  });

  it('at or after 17:00: the next working day at 09:00 (the end is exclusive)', () => {
    expect(next('2027-09-22T17:00', 'Asia/Tokyo')).toBe('2027-09-23T00:00:00.000Z');
    expect(next('2027-09-22T23:59', 'Asia/Tokyo')).toBe('2027-09-23T00:00:00.000Z');
    expect(isInsideWindow(at('2027-09-22T17:00', 'Asia/Tokyo'), OFFICE_HOURS, 'Asia/Tokyo')).toBe(false);
  });

  it('a weekend, or Friday after hours: Monday at 09:00', () => {
    expect(next('2027-09-24T17:30', 'Asia/Tokyo')).toBe('2027-09-27T00:00:00.000Z');
    expect(next('2027-09-25T10:00', 'Asia/Tokyo')).toBe('2027-09-27T00:00:00.000Z');
    expect(next('2027-09-26T23:59', 'Asia/Tokyo')).toBe('2027-09-27T00:00:00.000Z');
  });

  it('uses the weekday on the target’s clock, not in UTC', () => {
    // Sunday 23:30 UTC is already Monday 08:30 in Tokyo: the window opens half an hour later.
    expect(new Date(nextWindowOpening(Date.UTC(2027, 8, 26, 23, 30), OFFICE_HOURS, 'Asia/Tokyo')).toISOString()).toBe('2027-09-27T00:00:00.000Z');
    // Saturday 00:30 UTC is still Friday 17:30 in Los Angeles: closed until Monday 09:00 PDT.
    expect(new Date(nextWindowOpening(Date.UTC(2027, 8, 25, 0, 30), OFFICE_HOURS, 'America/Los_Angeles')).toISOString()).toBe('2027-09-27T16:00:00.000Z');
    // Friday 23:30 UTC is Friday 16:30 in Los Angeles: open.
    expect(isInsideWindow(Date.UTC(2027, 8, 24, 23, 30), OFFICE_HOURS, 'America/Los_Angeles')).toBe(true);
  });

  it('Monday 09:00 after a daylight-saving change keeps the local hour', () => {
    // New York springs forward on Sunday 2027-03-14: Friday is EST (-5), Monday EDT (-4).
    expect(next('2027-03-12T18:00', 'America/New_York')).toBe('2027-03-15T13:00:00.000Z');
    // Berlin falls back on Sunday 2027-10-31: Friday is CEST (+2), Monday CET (+1).
    expect(next('2027-10-29T18:00', 'Europe/Berlin')).toBe('2027-11-01T08:00:00.000Z');
  });

  it('an opening that falls in a daylight-saving gap opens when the clocks land after it', () => {
    const window = { start: '02:30', end: '04:00', days: [7] };
    // 02:30 does not exist in New York on 2027-03-14; the window opens at 03:00 EDT.
    expect(next('2027-03-14T01:00', 'America/New_York', window)).toBe('2027-03-14T07:00:00.000Z');
  });

  it('24:00 ends the window at midnight, and a null window is always open', () => {
    const weekends = { start: '00:00', end: '24:00', days: [6, 7] };
    expect(next('2027-09-26T23:59', 'Europe/Berlin', weekends)).toBe('2027-09-26T21:59:00.000Z');
    expect(next('2027-09-27T00:00', 'Europe/Berlin', weekends)).toBe('2027-10-01T22:00:00.000Z');
    expect(nextWindowOpening(1_800_000_000_000, null, 'Asia/Tokyo')).toBe(1_800_000_000_000);
  });

  it('reads clock times HH:mm up to 24:00', () => {
    expect(['00:00', '09:30', '23:59', '24:00'].every(isClockTime)).toBe(true);
    expect(['9:00', '24:01', '25:00', '12:60', '12:00:00'].some(isClockTime)).toBe(false);
  });
});
