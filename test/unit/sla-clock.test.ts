import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../../contracts/calendar.js';
import { breachInstant, cancelClock, clockState, instantAt, markBreached, newClock, pauseClock, restartClock, resumeClock, retargetClock, stopClock } from '../../contracts/sla-clock.js';

const HOUR = 3_600_000;
// Mon–Fri 08:00–18:00 in Vienna.
const officeHours: BusinessCalendar = {
  timeZone: 'Europe/Vienna',
  weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ from: '08:00', to: '18:00' }]])),
  holidays: [],
};
const at = (iso: string) => new Date(iso);

describe('SLA clocks', () => {
  it('counts business time only: a P2 fix clock opened Friday 17:30 with 4 h runs to Monday 11:30', () => {
    const clock = newClock('fix', 4 * HOUR, officeHours, at('2026-11-27T16:30:00Z')); // Fri 17:30 CET
    expect(instantAt(clock, 4 * HOUR)?.toISOString()).toBe('2026-11-30T10:30:00.000Z'); // Mon 11:30 CET
    const saturday = clockState(clock, at('2026-11-28T12:00:00Z'));
    expect(saturday).toMatchObject({ elapsedBusinessMs: 0.5 * HOUR, remainingMs: 3.5 * HOUR, percent: 12.5, running: true, breached: false });
    expect(saturday.elapsedWallMs).toBe(19.5 * HOUR);
  });

  it('moves the deadline by exactly the paused business time', () => {
    const clock = newClock('fix', 8 * HOUR, officeHours, at('2026-11-23T08:00:00Z')); // Mon 09:00
    const before = instantAt(clock, 8 * HOUR)!;
    expect(before.toISOString()).toBe('2026-11-23T16:00:00.000Z'); // Mon 17:00
    expect(pauseClock(clock, at('2026-11-23T10:00:00Z'), 'venue-access')).toBe(true); // Mon 11:00
    expect(instantAt(clock, 8 * HOUR)).toBeNull();
    const paused = clockState(clock, at('2026-11-23T12:00:00Z'));
    expect(paused).toMatchObject({ paused: true, running: false, pauseReason: 'venue-access', elapsedBusinessMs: 2 * HOUR, pausedBusinessMs: 2 * HOUR, breachAt: null });
    expect(resumeClock(clock, at('2026-11-23T13:30:00Z'))).toBe(true); // 3.5 business hours paused
    const after = instantAt(clock, 8 * HOUR)!;
    // Mon 17:00 + 3.5 h of business time = Mon 18:00 (1 h) + Tue 08:00..10:30 (2.5 h) → Tue 10:30 CET.
    expect(after.toISOString()).toBe('2026-11-24T09:30:00.000Z');
    expect(clockState(clock, at('2026-11-23T14:00:00Z')).pausedBusinessMs).toBe(3.5 * HOUR);
  });

  it('a pause over the weekend costs no business time', () => {
    const clock = newClock('fix', 4 * HOUR, officeHours, at('2026-11-27T15:00:00Z')); // Fri 16:00
    pauseClock(clock, at('2026-11-27T17:00:00Z'), 'parts'); // Fri 18:00, after hours
    resumeClock(clock, at('2026-11-30T07:00:00Z')); // Mon 08:00
    expect(instantAt(clock, 4 * HOUR)?.toISOString()).toBe('2026-11-30T09:00:00.000Z'); // Mon 10:00, as without the pause
    expect(clockState(clock, at('2026-11-30T08:00:00Z')).pausedBusinessMs).toBe(0);
  });

  it('stops when met, and reports a stop after the target as breached', () => {
    const met = newClock('response', HOUR, null, at('2026-11-24T10:00:00Z'));
    expect(stopClock(met, at('2026-11-24T10:20:00Z'))).toBe(true);
    expect(clockState(met, at('2026-11-24T12:00:00Z'))).toMatchObject({ stopped: true, running: false, elapsedBusinessMs: 20 * 60_000, breached: false, percent: 33.33 });
    const late = newClock('response', HOUR, null, at('2026-11-24T10:00:00Z'));
    stopClock(late, at('2026-11-24T11:30:00Z'));
    expect(clockState(late, at('2026-11-24T12:00:00Z'))).toMatchObject({ breached: true, everBreached: true, remainingMs: 0, percent: 150 });
  });

  it('a reopen starts a new cycle with the full target; last-cycle and ever-breached differ', () => {
    const clock = newClock('fix', 2 * HOUR, null, at('2026-11-24T08:00:00Z'));
    markBreached(clock, at('2026-11-24T10:00:00Z'));
    stopClock(clock, at('2026-11-24T11:00:00Z'));
    restartClock(clock, at('2026-11-24T12:00:00Z'));
    const state = clockState(clock, at('2026-11-24T12:30:00Z'));
    expect(state).toMatchObject({ cycle: 2, running: true, breached: false, everBreached: true, elapsedBusinessMs: 30 * 60_000, remainingMs: 90 * 60_000 });
    expect(state.breachAt).toBe('2026-11-24T14:00:00.000Z');
  });

  it('a cancelled clock stops counting and has no deadline: stopped, cancelled, not paused', () => {
    const clock = newClock('fix', 2 * HOUR, null, at('2026-11-24T08:00:00Z'));
    expect(cancelClock(clock, at('2026-11-24T09:00:00Z'))).toBe(true);
    expect(instantAt(clock, 2 * HOUR)).toBeNull();
    expect(clockState(clock, at('2026-11-24T20:00:00Z'))).toMatchObject({ stopped: true, cancelled: true, running: false, elapsedBusinessMs: HOUR, breached: false, breachAt: null });
    expect(pauseClock(clock, at('2026-11-24T21:00:00Z'), 'parts')).toBe(false);
    const pausedThenCancelled = newClock('fix', 2 * HOUR, null, at('2026-11-24T08:00:00Z'));
    pauseClock(pausedThenCancelled, at('2026-11-24T08:30:00Z'), 'parts');
    cancelClock(pausedThenCancelled, at('2026-11-24T09:00:00Z'));
    expect(clockState(pausedThenCancelled, at('2026-11-24T10:00:00Z'))).toMatchObject({ stopped: true, cancelled: true, paused: false, pauseReason: null, running: false });
  });

  describe('a priority raised mid-cycle (retargetClock)', () => {
    it('runs the new target from the raise: a P3 48 h fix clock raised to P1 4 h two hours in is due 4 h later; a reopen gets the full new target', () => {
      const clock = newClock('fix', 48 * HOUR, null, at('2026-11-23T08:00:00Z'));
      retargetClock(clock, 4 * HOUR, null, at('2026-11-23T10:00:00Z'));
      expect(breachInstant(clock)?.toISOString()).toBe('2026-11-23T14:00:00.000Z');
      expect(clockState(clock, at('2026-11-23T10:00:00Z'))).toMatchObject({ cycle: 1, elapsedBusinessMs: 2 * HOUR, targetMs: 6 * HOUR, remainingMs: 4 * HOUR, breached: false });
      restartClock(clock, at('2026-11-23T12:00:00Z'));
      expect(clockState(clock, at('2026-11-23T12:00:00Z'))).toMatchObject({ cycle: 2, targetMs: 4 * HOUR, breachAt: '2026-11-23T16:00:00.000Z' });
    });

    it('never gives more time: a deadline sooner than now plus the new target stays', () => {
      const clock = newClock('fix', 8 * HOUR, null, at('2026-11-23T08:00:00Z'));
      retargetClock(clock, 4 * HOUR, null, at('2026-11-23T15:00:00Z'));
      expect(breachInstant(clock)?.toISOString()).toBe('2026-11-23T16:00:00.000Z');
      expect(clockState(clock, at('2026-11-23T15:00:00Z'))).toMatchObject({ targetMs: 8 * HOUR, remainingMs: HOUR });
    });

    it('moves to the new priority’s calendar: an office-hours clock raised on Saturday to a 24/7 P1 runs through the weekend', () => {
      // Fri 17:00 Vienna, 16 business hours (1 on Friday, 10 on Monday, 5 on Tuesday): due Tuesday 13:00. Raised Sat 10:00 Vienna to 4 h, always open.
      const clock = newClock('fix', 16 * HOUR, officeHours, at('2026-11-27T16:00:00Z'));
      expect(breachInstant(clock)?.toISOString()).toBe('2026-12-01T12:00:00.000Z');
      retargetClock(clock, 4 * HOUR, null, at('2026-11-28T09:00:00Z'));
      expect(breachInstant(clock)?.toISOString()).toBe('2026-11-28T13:00:00.000Z'); // Sat 14:00 Vienna
      // Counted on the new calendar: 17 h since Friday 16:00 UTC, 4 h to go.
      expect(clockState(clock, at('2026-11-28T09:00:00Z'))).toMatchObject({ elapsedBusinessMs: 17 * HOUR, targetMs: 21 * HOUR, remainingMs: 4 * HOUR });
      expect(clock.calendar).toBeNull();
    });

    it('a paused clock takes the new target as if it resumed at the raise, and stays paused', () => {
      const clock = newClock('fix', 8 * HOUR, null, at('2026-11-23T08:00:00Z'));
      pauseClock(clock, at('2026-11-23T09:00:00Z'), 'parts');
      retargetClock(clock, 2 * HOUR, null, at('2026-11-23T12:00:00Z'));
      expect(clockState(clock, at('2026-11-23T12:00:00Z'))).toMatchObject({ paused: true, breachAt: null, elapsedBusinessMs: HOUR, remainingMs: 2 * HOUR });
      resumeClock(clock, at('2026-11-23T13:00:00Z'));
      expect(breachInstant(clock)?.toISOString()).toBe('2026-11-23T15:00:00.000Z');
    });

    it('a stopped or breached cycle keeps what it reported; only later cycles take the new target', () => {
      const response = newClock('response', HOUR, officeHours, at('2026-11-23T08:00:00Z'));
      stopClock(response, at('2026-11-23T08:30:00Z'));
      const before = clockState(response, at('2026-11-23T12:00:00Z'));
      retargetClock(response, 15 * 60_000, null, at('2026-11-23T12:00:00Z'));
      expect(clockState(response, at('2026-11-23T12:00:00Z'))).toEqual(before);
      const fix = newClock('fix', HOUR, null, at('2026-11-23T08:00:00Z'));
      markBreached(fix, at('2026-11-23T09:00:00Z'));
      retargetClock(fix, 30 * 60_000, null, at('2026-11-23T10:00:00Z'));
      expect(clockState(fix, at('2026-11-23T10:00:00Z'))).toMatchObject({ targetMs: HOUR, breached: true, breachAt: '2026-11-23T09:00:00.000Z' });
      restartClock(fix, at('2026-11-23T11:00:00Z'));
      expect(clockState(fix, at('2026-11-23T11:00:00Z'))).toMatchObject({ cycle: 2, targetMs: 30 * 60_000, breached: false });
    });
  });
});
