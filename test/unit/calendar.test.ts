import fc from 'fast-check';
import { DateTime, Settings } from 'luxon';
import { describe, expect, it } from 'vitest';
import { addBusinessTime, businessTimeBetween, calendarProblems, localMoment, openIntervals, type BusinessCalendar, type DailySpan, type Interval, type Weekday } from '../../contracts/calendar.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString();
const intervals = (list: Interval[]) => list.map(({ start, end }) => [iso(start), iso(end)]);

const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MON_FRI: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
function weekly(days: Weekday[], ...spans: DailySpan[]): BusinessCalendar['weekly'] {
  return Object.fromEntries(days.map((day) => [day, spans]));
}
function calendar(timeZone: string, week: BusinessCalendar['weekly'], holidays: string[] = []): BusinessCalendar {
  return { timeZone, weekly: week, holidays };
}

const alwaysOpenUtc: BusinessCalendar = { timeZone: 'UTC', alwaysOpen: true, weekly: {}, holidays: [] };
const londonOffice = calendar('Europe/London', weekly(MON_FRI, { from: '09:00', to: '17:00' }), [
  '2020-12-25', '2021-04-02', '2022-08-29', '2023-05-01', '2024-12-26', '2025-04-18',
  '2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28',
  '2027-03-26', '2028-04-14', '2029-12-25', '2029-12-26',
]);
const newYorkSplitShift = calendar('America/New_York', weekly(MON_FRI, { from: '08:00', to: '12:00' }, { from: '13:00', to: '18:00' }), ['2026-07-03', '2026-11-26']);
const berlinNights = calendar('Europe/Berlin', weekly(WEEKDAYS, { from: '22:00', to: '06:00' }), ['2021-12-24', '2026-05-01', '2026-12-24', '2028-10-03']);

describe('business calendar properties', () => {
  const calendars = fc.constantFrom(alwaysOpenUtc, londonOffice, newYorkSplitShift, berlinNights);
  const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms));
  const duration = fc.integer({ min: 0, max: 14 * DAY });
  const pauses = (start: Date) =>
    fc
      .array(fc.record({ offset: fc.integer({ min: -7 * DAY, max: 60 * DAY }), length: fc.integer({ min: 0, max: 3 * DAY }) }), { maxLength: 4 })
      .map((list) => list.map(({ offset, length }) => ({ start: new Date(start.getTime() + offset), end: new Date(start.getTime() + offset + length) })));
  const runs = { numRuns: 250 };

  it('counts back exactly the business time it added', () => {
    fc.assert(
      fc.property(calendars, instant, duration, (cal, start, d) => {
        expect(businessTimeBetween(start, addBusinessTime(start, d, cal), cal)).toBe(d);
      }),
      runs,
    );
  });

  it('counts back exactly the business time it added around pauses', () => {
    fc.assert(
      fc.property(calendars, instant.chain((start) => fc.tuple(fc.constant(start), pauses(start))), duration, (cal, [start, paused], d) => {
        expect(businessTimeBetween(start, addBusinessTime(start, d, cal, paused), cal, paused)).toBe(d);
      }),
      runs,
    );
  });

  it('is monotonic in the duration and in the end', () => {
    fc.assert(
      fc.property(calendars, instant, duration, duration, (cal, start, a, b) => {
        const [d1, d2] = a <= b ? [a, b] : [b, a];
        expect(addBusinessTime(start, d1, cal).getTime()).toBeLessThanOrEqual(addBusinessTime(start, d2, cal).getTime());
        const [e1, e2] = [new Date(start.getTime() + d1 * 3), new Date(start.getTime() + d2 * 3)];
        expect(businessTimeBetween(start, e1, cal)).toBeLessThanOrEqual(businessTimeBetween(start, e2, cal));
      }),
      runs,
    );
  });

  it('is additive: a → b plus b → c is a → c', () => {
    fc.assert(
      fc.property(calendars, instant, duration, duration, (cal, a, x, y) => {
        const b = new Date(a.getTime() + x);
        const c = new Date(b.getTime() + y);
        expect(businessTimeBetween(a, b, cal) + businessTimeBetween(b, c, cal)).toBe(businessTimeBetween(a, c, cal));
      }),
      runs,
    );
  });

  it('only lengthens with pauses', () => {
    fc.assert(
      fc.property(calendars, instant.chain((start) => fc.tuple(fc.constant(start), pauses(start))), duration, (cal, [start, paused], d) => {
        expect(addBusinessTime(start, d, cal, paused).getTime()).toBeGreaterThanOrEqual(addBusinessTime(start, d, cal).getTime());
        const end = new Date(start.getTime() + 3 * d);
        expect(businessTimeBetween(start, end, cal, paused)).toBeLessThanOrEqual(businessTimeBetween(start, end, cal));
      }),
      runs,
    );
  });

  it('agrees with the open intervals it reports', () => {
    fc.assert(
      fc.property(calendars, instant, duration, (cal, start, d) => {
        const end = new Date(start.getTime() + 3 * d);
        const open = openIntervals(start, end, cal);
        expect(open.reduce((sum, { start: s, end: e }) => sum + (e.getTime() - s.getTime()), 0)).toBe(businessTimeBetween(start, end, cal));
        open.forEach(({ start: s, end: e }, i) => {
          expect(s.getTime()).toBeLessThan(e.getTime());
          expect(s.getTime()).toBeGreaterThanOrEqual(i === 0 ? start.getTime() : (open[i - 1] as Interval).end.getTime() + 1);
          expect(e.getTime()).toBeLessThanOrEqual(end.getTime());
        });
      }),
      runs,
    );
  });
});

describe('DST changes of 2026', () => {
  const allDay = (zone: string) => calendar(zone, weekly(WEEKDAYS, { from: '00:00', to: '24:00' }));

  it.each([
    // zone, local midnight starting the change day (UTC), the next local midnight (UTC), real hours
    ['Europe/London', '2026-03-29T00:00:00Z', '2026-03-29T23:00:00Z', 23],
    ['Europe/London', '2026-10-24T23:00:00Z', '2026-10-26T00:00:00Z', 25],
    ['Europe/Berlin', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', 23],
    ['Europe/Berlin', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', 25],
    ['America/New_York', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', 23],
    ['America/New_York', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 25],
  ])('00:00–24:00 every day in %s is wall-elapsed time: the change day [%s, %s) is %i h', (zone, dayStart, nextDayStart, hours) => {
    const cal = allDay(zone);
    expect(businessTimeBetween(at(dayStart), at(nextDayStart), cal)).toBe(hours * HOUR);
    expect(iso(addBusinessTime(at(dayStart), hours * HOUR, cal))).toBe(iso(at(nextDayStart)));
    // Days joined at midnight are one open interval, however long the day.
    expect(intervals(openIntervals(new Date(at(dayStart).getTime() - 2 * DAY), new Date(at(nextDayStart).getTime() + 2 * DAY), cal))).toEqual([
      [iso(new Date(at(dayStart).getTime() - 2 * DAY)), iso(new Date(at(nextDayStart).getTime() + 2 * DAY))],
    ]);
  });

  it('24 h of a local 24/7 calendar across the change is 24 h of UTC time', () => {
    expect(iso(addBusinessTime(at('2026-03-28T12:00:00Z'), 24 * HOUR, allDay('Europe/London')))).toBe('2026-03-29T12:00:00.000Z');
    expect(iso(addBusinessTime(at('2026-10-24T12:00:00Z'), 24 * HOUR, allDay('Europe/London')))).toBe('2026-10-25T12:00:00.000Z');
    expect(iso(addBusinessTime(at('2026-03-07T17:00:00Z'), 24 * HOUR, allDay('America/New_York')))).toBe('2026-03-08T17:00:00.000Z');
  });

  it.each([
    // Friday 15:00 local + 4 business hours of 09:00–17:00 = Monday 11:00 local, after the change.
    ['Europe/London', '2026-03-27T15:00:00Z', '2026-03-30T10:00:00.000Z'], // GMT Friday, BST Monday
    ['Europe/London', '2026-10-23T14:00:00Z', '2026-10-26T11:00:00.000Z'], // BST Friday, GMT Monday
    ['Europe/Berlin', '2026-03-27T14:00:00Z', '2026-03-30T09:00:00.000Z'], // CET Friday, CEST Monday
    ['Europe/Berlin', '2026-10-23T13:00:00Z', '2026-10-26T10:00:00.000Z'], // CEST Friday, CET Monday
    ['America/New_York', '2026-03-06T20:00:00Z', '2026-03-09T15:00:00.000Z'], // EST Friday, EDT Monday
    ['America/New_York', '2026-10-30T19:00:00Z', '2026-11-02T16:00:00.000Z'], // EDT Friday, EST Monday
  ])('09:00–17:00 in %s: 4 h from Friday 15:00 local (%s) lands Monday 11:00 local', (zone, start, expected) => {
    const cal = calendar(zone, weekly(MON_FRI, { from: '09:00', to: '17:00' }));
    expect(iso(addBusinessTime(at(start), 4 * HOUR, cal))).toBe(expected);
    expect(businessTimeBetween(at(start), at(expected), cal)).toBe(4 * HOUR);
  });

  it.each([
    ['Europe/London', '2026-03-29T00:00:00.000Z', '2026-03-29T05:00:00.000Z', 5],
    ['Europe/London', '2026-10-24T23:00:00.000Z', '2026-10-25T06:00:00.000Z', 7],
    ['Europe/Berlin', '2026-03-28T23:00:00.000Z', '2026-03-29T04:00:00.000Z', 5],
    ['Europe/Berlin', '2026-10-24T22:00:00.000Z', '2026-10-25T05:00:00.000Z', 7],
    ['America/New_York', '2026-03-08T05:00:00.000Z', '2026-03-08T10:00:00.000Z', 5],
    ['America/New_York', '2026-11-01T04:00:00.000Z', '2026-11-01T11:00:00.000Z', 7],
  ])('a Sunday 00:00–06:00 span across the change in %s is [%s, %s), %i real hours', (zone, start, end, hours) => {
    const cal = calendar(zone, { sun: [{ from: '00:00', to: '06:00' }] });
    const week = [new Date(at(start).getTime() - 3 * DAY), new Date(at(start).getTime() + 3 * DAY)] as const;
    expect(intervals(openIntervals(week[0], week[1], cal))).toEqual([[start, end]]);
    expect(businessTimeBetween(week[0], week[1], cal)).toBe(hours * HOUR);
  });

  describe('local times that do not exist or occur twice', () => {
    const sunday = (zone: string, from: string, to: string) => calendar(zone, { sun: [{ from, to }] });
    const around = (day: string) => [at(`${day}T00:00:00Z`), new Date(at(`${day}T00:00:00Z`).getTime() + DAY)] as const;
    const spring = around('2026-03-29'); // covers Berlin's 00:30Z–02:00Z and London's 00:00Z–02:00Z
    const autumnEurope = [at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z')] as const;

    it('moves a time in the spring gap forward by the gap: the span ending in it keeps its real length', () => {
      // Berlin skips 02:00–03:00 CET: 02:30 is read at +01:00 = 01:30Z (03:30 CEST), so 01:30–02:30 is still 60 real minutes.
      expect(intervals(openIntervals(...spring, sunday('Europe/Berlin', '01:30', '02:30')))).toEqual([['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z']]);
      // A span across the whole gap is an hour shorter than its wall-clock length: 01:30–03:30 is 60 minutes.
      expect(intervals(openIntervals(...spring, sunday('Europe/Berlin', '01:30', '03:30')))).toEqual([['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z']]);
      // A span starting in the gap starts an hour later in wall-clock terms: 02:30–04:00 is 03:30–04:00 CEST.
      expect(intervals(openIntervals(...spring, sunday('Europe/Berlin', '02:30', '04:00')))).toEqual([['2026-03-29T01:30:00.000Z', '2026-03-29T02:00:00.000Z']]);
      // A span inside the gap vanishes: London's 01:30 and 02:30 are both 01:30Z.
      expect(openIntervals(...spring, sunday('Europe/London', '01:30', '02:30'))).toEqual([]);
      // New York skips 02:00–03:00 EST: 02:30 is 07:30Z, 03:30 EDT.
      expect(intervals(openIntervals(at('2026-03-08T00:00:00Z'), at('2026-03-09T00:00:00Z'), sunday('America/New_York', '02:30', '04:00')))).toEqual([
        ['2026-03-08T07:30:00.000Z', '2026-03-08T08:00:00.000Z'],
      ]);
    });

    it('reads a repeated time as its first occurrence, the earlier instant', () => {
      // London repeats 01:00–02:00: 01:00 and 01:30 are BST (00:00Z, 00:30Z), not GMT.
      expect(intervals(openIntervals(...autumnEurope, sunday('Europe/London', '01:00', '01:30')))).toEqual([['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z']]);
      // Berlin repeats 02:00–03:00: 02:30 CEST = 00:30Z; 03:00 exists once, CET = 02:00Z.
      expect(intervals(openIntervals(...autumnEurope, sunday('Europe/Berlin', '02:30', '03:00')))).toEqual([['2026-10-25T00:30:00.000Z', '2026-10-25T02:00:00.000Z']]);
      // New York repeats 01:00–02:00: 01:30 EDT = 05:30Z; 02:00 EST = 07:00Z.
      expect(intervals(openIntervals(at('2026-11-01T00:00:00Z'), at('2026-11-02T00:00:00Z'), sunday('America/New_York', '01:30', '02:00')))).toEqual([
        ['2026-11-01T05:30:00.000Z', '2026-11-01T07:00:00.000Z'],
      ]);
    });

    it('does not depend on the real current time (luxon alone would)', () => {
      const cal = sunday('Europe/London', '01:30', '06:00');
      const original = Settings.now;
      try {
        const results = [Date.UTC(2026, 0, 15), Date.UTC(2026, 6, 15)].map((now) => {
          Settings.now = () => now;
          return intervals(openIntervals(...autumnEurope, cal));
        });
        expect(results).toEqual([
          [['2026-10-25T00:30:00.000Z', '2026-10-25T06:00:00.000Z']],
          [['2026-10-25T00:30:00.000Z', '2026-10-25T06:00:00.000Z']],
        ]);
      } finally {
        Settings.now = original;
      }
    });
  });
});

describe('addBusinessTime and businessTimeBetween', () => {
  it('bridges the UK Easter long weekend of 2026 (Good Friday and Easter Monday closed)', () => {
    // Thursday 2 April 16:00 BST: one hour that day, none until Tuesday 7 April 09:00 BST.
    expect(iso(addBusinessTime(at('2026-04-02T15:00:00Z'), 2 * HOUR, londonOffice))).toBe('2026-04-07T09:00:00.000Z');
    expect(businessTimeBetween(at('2026-04-02T15:00:00Z'), at('2026-04-07T09:00:00Z'), londonOffice)).toBe(2 * HOUR);
    expect(businessTimeBetween(at('2026-04-02T16:00:00Z'), at('2026-04-07T08:00:00Z'), londonOffice)).toBe(0);
  });

  it('stops at the closing time that completes the duration, not at the next opening', () => {
    expect(iso(addBusinessTime(at('2026-01-05T09:00:00Z'), 8 * HOUR, londonOffice))).toBe('2026-01-05T17:00:00.000Z');
  });

  it('starts counting at the next opening when started outside business hours', () => {
    // Saturday 10 January 2026 12:00 GMT → Monday 09:00 + 1 h.
    expect(iso(addBusinessTime(at('2026-01-10T12:00:00Z'), HOUR, londonOffice))).toBe('2026-01-12T10:00:00.000Z');
  });

  it('does not move for a zero duration, open or closed', () => {
    for (const start of ['2026-01-05T10:00:00.000Z', '2026-01-10T12:00:00.000Z']) {
      expect(iso(addBusinessTime(at(start), 0, londonOffice))).toBe(start);
      expect(iso(addBusinessTime(at(start), 0, londonOffice, [{ start: at('2026-01-01T00:00:00Z'), end: at('2026-02-01T00:00:00Z') }]))).toBe(start);
    }
  });

  it('skips the gap between the shifts of a split shift, across New York’s spring change', () => {
    // Monday 9 March 10:00 EDT: 10–12 and 13–17.
    expect(iso(addBusinessTime(at('2026-03-09T14:00:00Z'), 6 * HOUR, newYorkSplitShift))).toBe('2026-03-09T21:00:00.000Z');
    // Friday 6 March 16:00 EST: 16–18, then Monday 08:00–11:00 EDT.
    expect(iso(addBusinessTime(at('2026-03-06T21:00:00Z'), 5 * HOUR, newYorkSplitShift))).toBe('2026-03-09T15:00:00.000Z');
  });

  describe('an overnight shift 22:00–06:00 in Berlin', () => {
    it('runs a shift from the evening before a holiday into it, and skips the one starting on it', () => {
      // Thursday 30 April 22:00 CEST (20:00Z) → 06:00 on the 1 May holiday: 8 h. The 1 May shift is skipped; Saturday's starts 2 May 20:00Z.
      expect(iso(addBusinessTime(at('2026-04-30T20:00:00Z'), 10 * HOUR, berlinNights))).toBe('2026-05-02T22:00:00.000Z');
      expect(businessTimeBetween(at('2026-05-01T00:00:00Z'), at('2026-05-02T12:00:00Z'), berlinNights)).toBe(4 * HOUR);
      expect(intervals(openIntervals(at('2026-04-30T12:00:00Z'), at('2026-05-03T12:00:00Z'), berlinNights))).toEqual([
        ['2026-04-30T20:00:00.000Z', '2026-05-01T04:00:00.000Z'],
        ['2026-05-02T20:00:00.000Z', '2026-05-03T04:00:00.000Z'],
      ]);
    });

    it('is 7 real hours on the spring night and 9 on the autumn night', () => {
      // Saturday 28 March 22:00 CET (21:00Z) → Sunday 06:00 CEST (04:00Z); then Sunday 22:00 CEST (20:00Z) + 1 h.
      expect(iso(addBusinessTime(at('2026-03-28T21:00:00Z'), 8 * HOUR, berlinNights))).toBe('2026-03-29T21:00:00.000Z');
      expect(businessTimeBetween(at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'), berlinNights)).toBe(7 * HOUR);
      // Saturday 24 October 22:00 CEST (20:00Z) → Sunday 06:00 CET (05:00Z).
      expect(businessTimeBetween(at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z'), berlinNights)).toBe(9 * HOUR);
      expect(iso(addBusinessTime(at('2026-10-24T20:00:00Z'), 9 * HOUR, berlinNights))).toBe('2026-10-25T05:00:00.000Z');
    });

    it('counts from inside a shift that began the evening before', () => {
      // Wednesday 14 January 03:00 CET (02:00Z) is inside Tuesday's shift, which ends 05:00Z.
      expect(iso(addBusinessTime(at('2026-01-14T02:00:00Z'), 4 * HOUR, berlinNights))).toBe('2026-01-14T22:00:00.000Z');
    });
  });

  it('pauses a 24/7 clock, merging overlapping pauses and ignoring empty ones', () => {
    const paused: Interval[] = [
      { start: at('2025-12-31T23:00:00Z'), end: at('2026-01-01T00:30:00Z') },
      { start: at('2026-01-01T01:00:00Z'), end: at('2026-01-01T02:00:00Z') },
      { start: at('2026-01-01T01:30:00Z'), end: at('2026-01-01T02:30:00Z') },
      { start: at('2026-01-01T04:00:00Z'), end: at('2026-01-01T04:00:00Z') },
      { start: at('2026-01-01T05:00:00Z'), end: at('2026-01-01T06:00:00Z') },
    ];
    // Open 00:30–01:00 and 02:30–05:00 (3 h), then 06:00 + 1 h.
    expect(iso(addBusinessTime(at('2026-01-01T00:00:00Z'), 4 * HOUR, alwaysOpenUtc, paused))).toBe('2026-01-01T07:00:00.000Z');
    expect(businessTimeBetween(at('2026-01-01T00:00:00Z'), at('2026-01-01T07:00:00Z'), alwaysOpenUtc, paused)).toBe(4 * HOUR);
    expect(() => addBusinessTime(at('2026-01-01T00:00:00Z'), HOUR, alwaysOpenUtc, [{ start: at('2026-01-02T00:00:00Z'), end: at('2026-01-01T00:00:00Z') }])).toThrow(
      /pauses\[0\] ends before it starts/,
    );
  });

  it('is 0 when the end is not after the start', () => {
    expect(businessTimeBetween(at('2026-01-05T12:00:00Z'), at('2026-01-05T10:00:00Z'), londonOffice)).toBe(0);
    expect(businessTimeBetween(at('2026-01-05T12:00:00Z'), at('2026-01-05T12:00:00Z'), alwaysOpenUtc)).toBe(0);
  });

  it('throws instead of searching forever when the calendar never opens', () => {
    const never = calendar('UTC', {});
    expect(() => addBusinessTime(at('2026-01-01T00:00:00Z'), HOUR, never)).toThrow(/no open hours/);
    expect(businessTimeBetween(at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00Z'), never)).toBe(0);
    expect(openIntervals(at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00Z'), never)).toEqual([]);
    const pausedTwentyYears = [{ start: at('2026-01-01T00:00:00Z'), end: at('2046-01-01T00:00:00Z') }];
    expect(() => addBusinessTime(at('2026-01-01T00:00:00Z'), HOUR, alwaysOpenUtc, pausedTwentyYears)).toThrow(/within 10 years/);
  });

  it('refuses an invalid calendar or instant', () => {
    expect(() => addBusinessTime(at('2026-01-01T00:00:00Z'), HOUR, calendar('Mars/Olympus', {}))).toThrow(/invalid business calendar: timeZone/);
    expect(() => businessTimeBetween(new Date(Number.NaN), at('2026-01-01T00:00:00Z'), alwaysOpenUtc)).toThrow(/start must be a valid Date/);
    expect(() => addBusinessTime(at('2026-01-01T00:00:00Z'), -1, alwaysOpenUtc)).toThrow(/durationMs/);
  });
});

describe('openIntervals', () => {
  it('merges spans that meet at midnight', () => {
    // Monday 5 January 2026, GMT: 22:00–24:00 then Tuesday 00:00–06:00.
    const cal = calendar('Europe/London', { mon: [{ from: '22:00', to: '24:00' }], tue: [{ from: '00:00', to: '06:00' }] });
    expect(intervals(openIntervals(at('2026-01-05T00:00:00Z'), at('2026-01-07T00:00:00Z'), cal))).toEqual([['2026-01-05T22:00:00.000Z', '2026-01-06T06:00:00.000Z']]);
  });

  it('merges overlapping spans of a day and clips to [from, to)', () => {
    const cal = calendar('UTC', { mon: [{ from: '11:00', to: '13:00' }, { from: '08:00', to: '12:00' }, { from: '15:00', to: '16:00' }] });
    expect(intervals(openIntervals(at('2026-01-05T09:00:00Z'), at('2026-01-05T15:30:00Z'), cal))).toEqual([
      ['2026-01-05T09:00:00.000Z', '2026-01-05T13:00:00.000Z'],
      ['2026-01-05T15:00:00.000Z', '2026-01-05T15:30:00.000Z'],
    ]);
  });

  it('is [from, to) itself for a 24/7 calendar, and empty for an empty range', () => {
    expect(intervals(openIntervals(at('2026-01-05T09:00:00Z'), at('2026-01-06T09:00:00Z'), alwaysOpenUtc))).toEqual([['2026-01-05T09:00:00.000Z', '2026-01-06T09:00:00.000Z']]);
    expect(openIntervals(at('2026-01-06T09:00:00Z'), at('2026-01-05T09:00:00Z'), alwaysOpenUtc)).toEqual([]);
  });
});

describe('calendarProblems', () => {
  it('accepts a valid calendar', () => {
    expect(calendarProblems(londonOffice)).toEqual([]);
    expect(calendarProblems(berlinNights)).toEqual([]);
    expect(calendarProblems(calendar('UTC', { sun: [{ from: '00:00', to: '24:00' }] }))).toEqual([]);
  });

  it('names every bad zone, time and date', () => {
    const problems = calendarProblems(calendar('Mars/Olympus', { mon: [{ from: '25:00', to: '17:00' }, { from: '24:00', to: '9:00' }] }, ['2026-13-01', '2026-02-30', '2026-01-01']));
    expect(problems).toEqual([
      'timeZone: "Mars/Olympus" is not an IANA time zone such as "Europe/London"',
      'weekly.mon[0].from: "25:00" is not a local time HH:mm (00:00–23:59)',
      'weekly.mon[1].from: "24:00" is not a local time HH:mm (00:00–23:59)',
      'weekly.mon[1].to: "9:00" is not a local time HH:mm (00:00–24:00)',
      'holidays[0]: "2026-13-01" is not a date YYYY-MM-DD',
      'holidays[1]: "2026-02-30" is not a date YYYY-MM-DD',
    ]);
  });

  it('reports malformed configs instead of crashing on them', () => {
    const junk = { timeZone: 42, weekly: { someday: [], mon: 'all day' }, holidays: 'none' } as unknown as BusinessCalendar;
    expect(calendarProblems(junk)).toEqual([
      'timeZone: 42 is not an IANA time zone such as "Europe/London"',
      'weekly.someday: not a weekday (expected one of mon, tue, wed, thu, fri, sat, sun)',
      'weekly.mon: expected a list of spans { from, to }',
      'holidays: expected a list of dates YYYY-MM-DD',
    ]);
  });
});

describe('localMoment', () => {
  // Zones whose offsets change in unusual ways: at midnight (Santiago, Havana), by 30 minutes (Lord
  // Howe), at odd offsets (Kathmandu, Chatham), twice a year in Morocco; and the ones our agreements use.
  const zones = ['Europe/London', 'Europe/Vienna', 'America/New_York', 'America/Santiago', 'America/Havana', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'Africa/Casablanca', 'UTC'];
  const wallClock = (instant: number, zone: string) => {
    const local = localMoment(instant, zone);
    return `${local.date.iso} ${local.date.weekday} ${local.msOfDay}`;
  };
  const luxonWallClock = (instant: number, zone: string) => {
    const local = DateTime.fromMillis(instant, { zone });
    return `${local.toISODate()} ${local.weekday - 1} ${local.hour * HOUR + local.minute * MINUTE + local.second * 1000 + local.millisecond}`;
  };

  it('shows the local date, weekday and time of day the zone rules give, to the millisecond, around every offset change', () => {
    let changes = 0;
    for (const zone of zones) {
      // Every offset change from 2024 to 2028, found day by day and bisected; each checked around it.
      const offset = (instant: number) => DateTime.fromMillis(instant, { zone }).offset;
      for (let day = Date.UTC(2024, 0, 1); day < Date.UTC(2028, 0, 1); day += DAY) {
        if (offset(day) === offset(day + DAY - 1)) continue;
        let [unchanged, change] = [day, day + DAY - 1];
        while (change - unchanged > 1) {
          const middle = Math.floor((unchanged + change) / 2);
          if (offset(middle) === offset(day)) unchanged = middle;
          else change = middle;
        }
        for (const instant of [change - 1001, change - 1, change, change + 1]) expect(wallClock(instant, zone), `${zone} ${new Date(instant).toISOString()}`).toBe(luxonWallClock(instant, zone));
        changes++;
      }
    }
    // Two a year in most of these zones, four in Casablanca (around Ramadan).
    expect(changes).toBeGreaterThanOrEqual(60);
  });

  it('agrees with the zone rules at any instant', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }), (zone, instant) => {
        expect(wallClock(instant, zone)).toBe(luxonWallClock(instant, zone));
      }),
      { numRuns: 5000 },
    );
  });
});
