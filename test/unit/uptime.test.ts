import { describe, expect, it } from 'vitest';
import { attributeOutages, capExclusions, offlineOutages } from '../../contracts/port-outages.js';
import { portUptime, type Outage, type OutageCause } from '../../contracts/uptime.js';

const MINUTE = 60_000;
const at = (iso: string) => new Date(iso);
const outage = (start: string, end: string, cause: OutageCause = 'fault'): Outage => ({ start: at(start), end: at(end), cause });
const day = { start: at('2026-01-01T00:00:00Z'), end: at('2026-01-02T00:00:00Z') }; // 1 440 minutes
const NEVI_EXCLUSIONS: OutageCause[] = ['utility', 'vandalism', 'scheduled-maintenance', 'vehicle', 'natural-disaster', 'outside-operating-hours'];

describe('portUptime', () => {
  it('measures a year of 525 600 minutes', () => {
    const year = { start: at('2025-01-01T00:00:00Z'), end: at('2026-01-01T00:00:00Z') };
    expect(portUptime([], year, NEVI_EXCLUSIONS)).toEqual({ periodMinutes: 525_600, outageMinutes: 0, excludedMinutes: 0, uptimePercent: 100 });
    // 1 % of the year down (5 256 minutes = 87 h 36 min), plus 1 000 excluded minutes of utility outage.
    const outages = [outage('2025-03-01T00:00:00Z', '2025-03-04T15:36:00Z'), outage('2025-06-01T00:00:00Z', '2025-06-01T16:40:00Z', 'utility')];
    expect(portUptime(outages, year, NEVI_EXCLUSIONS)).toEqual({ periodMinutes: 525_600, outageMinutes: 6_256, excludedMinutes: 1_000, uptimePercent: 99 });
    // NEVI's 97 % threshold: 15 768 minutes down.
    expect(portUptime([outage('2025-01-01T00:00:00Z', '2025-01-11T22:48:00Z')], year, []).uptimePercent).toBe(97);
  });

  it('measures the period it is given, e.g. a leap year of 527 040 minutes', () => {
    expect(portUptime([], { start: at('2024-01-01T00:00:00Z'), end: at('2025-01-01T00:00:00Z') }, []).periodMinutes).toBe(527_040);
  });

  it('merges overlapping and adjacent outages', () => {
    const outages = [
      outage('2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z', 'fault'),
      outage('2026-01-01T01:30:00Z', '2026-01-01T03:00:00Z', 'offline'),
      outage('2026-01-01T03:00:00Z', '2026-01-01T04:00:00Z', 'fault'),
      outage('2026-01-01T10:00:00Z', '2026-01-01T10:30:00Z', 'unknown'),
    ];
    // 01:00–04:00 and 10:00–10:30: 210 minutes; 1 230 / 1 440 = 85.41666… %.
    expect(portUptime(outages, day, NEVI_EXCLUSIONS)).toEqual({ periodMinutes: 1_440, outageMinutes: 210, excludedMinutes: 0, uptimePercent: 85.42 });
  });

  it('clips outages to the period', () => {
    const outages = [
      outage('2025-12-31T23:00:00Z', '2026-01-01T01:00:00Z'),
      outage('2026-01-01T23:30:00Z', '2026-01-02T02:00:00Z'),
      outage('2026-01-03T00:00:00Z', '2026-01-03T05:00:00Z'),
      outage('2025-12-30T00:00:00Z', '2026-01-01T00:00:00Z'),
    ];
    // 60 + 30 minutes inside; 1 350 / 1 440 = 93.75 %.
    expect(portUptime(outages, day, [])).toEqual({ periodMinutes: 1_440, outageMinutes: 90, excludedMinutes: 0, uptimePercent: 93.75 });
  });

  it('subtracts outages with an excluded cause', () => {
    const outages = [
      outage('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'fault'),
      outage('2026-01-01T05:00:00Z', '2026-01-01T07:00:00Z', 'utility'),
      outage('2026-01-01T12:00:00Z', '2026-01-01T12:30:00Z', 'vandalism'),
    ];
    // 210 minutes down, 150 of them excused: (1 440 − 60) / 1 440 = 95.8333… %.
    expect(portUptime(outages, day, ['utility', 'vandalism'])).toEqual({ periodMinutes: 1_440, outageMinutes: 210, excludedMinutes: 150, uptimePercent: 95.83 });
    expect(portUptime(outages, day, ['utility'])).toEqual({ periodMinutes: 1_440, outageMinutes: 210, excludedMinutes: 120, uptimePercent: 93.75 });
    expect(portUptime(outages, day, [])).toEqual({ periodMinutes: 1_440, outageMinutes: 210, excludedMinutes: 0, uptimePercent: 85.42 });
  });

  it('excuses a minute an excluded outage covers even when a fault covers it too', () => {
    // Fault 01:00–03:00, utility 02:00–04:00: 180 minutes down, 120 excused, 60 count.
    const partly = [outage('2026-01-01T01:00:00Z', '2026-01-01T03:00:00Z', 'fault'), outage('2026-01-01T02:00:00Z', '2026-01-01T04:00:00Z', 'utility')];
    expect(portUptime(partly, day, ['utility'])).toEqual({ periodMinutes: 1_440, outageMinutes: 180, excludedMinutes: 120, uptimePercent: 95.83 });
    // A fault inside a utility outage is excused entirely.
    const inside = [outage('2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z', 'fault'), outage('2026-01-01T00:30:00Z', '2026-01-01T03:00:00Z', 'utility')];
    expect(portUptime(inside, day, ['utility'])).toEqual({ periodMinutes: 1_440, outageMinutes: 150, excludedMinutes: 150, uptimePercent: 100 });
  });

  it('counts overlapping excluded outages once, never more than the outage time', () => {
    const outages = [outage('2026-01-01T00:00:00Z', '2026-01-01T02:00:00Z', 'utility'), outage('2026-01-01T01:00:00Z', '2026-01-01T03:00:00Z', 'vandalism')];
    expect(portUptime(outages, day, NEVI_EXCLUSIONS)).toEqual({ periodMinutes: 1_440, outageMinutes: 180, excludedMinutes: 180, uptimePercent: 100 });
  });

  it('is 100 without outages, or with only instantaneous ones', () => {
    expect(portUptime([], day, []).uptimePercent).toBe(100);
    expect(portUptime([outage('2026-01-01T05:00:00Z', '2026-01-01T05:00:00Z')], day, [])).toEqual({ periodMinutes: 1_440, outageMinutes: 0, excludedMinutes: 0, uptimePercent: 100 });
  });

  it('is 0 when down the whole period for a cause not excluded', () => {
    expect(portUptime([outage('2025-12-31T00:00:00Z', '2026-01-03T00:00:00Z', 'fault')], day, NEVI_EXCLUSIONS)).toEqual({
      periodMinutes: 1_440,
      outageMinutes: 1_440,
      excludedMinutes: 0,
      uptimePercent: 0,
    });
  });

  it('rounds half up, minutes to 3 decimals and the percentage to 2, each from the unrounded values', () => {
    const from = (start: string, ms: number) => ({ start: at(start), end: new Date(at(start).getTime() + ms) });
    const thirtyTwoMinutes = from('2026-01-01T00:00:00Z', 32 * MINUTE);
    // 31 / 32 = 96.875 % exactly → 96.88.
    expect(portUptime([{ ...from('2026-01-01T00:10:00Z', MINUTE), cause: 'fault' }], thirtyTwoMinutes, []).uptimePercent).toBe(96.88);
    // 1 min 10 ms is 1.000 minutes rounded, but the percentage, 96.87447… %, comes from the exact time → 96.87, not 96.88.
    expect(portUptime([{ ...from('2026-01-01T00:10:00Z', MINUTE + 10), cause: 'fault' }], thirtyTwoMinutes, [])).toEqual({
      periodMinutes: 32,
      outageMinutes: 1,
      excludedMinutes: 0,
      uptimePercent: 96.87,
    });
    // 1.0005 minutes (60 030 ms) → 1.001, a tie binary floating point would round down (1.0005 × 1000 = 1000.4999…).
    expect(portUptime([{ ...from('2026-01-01T00:10:00Z', 60_030), cause: 'fault' }], thirtyTwoMinutes, []).outageMinutes).toBe(1.001);
    expect(portUptime([{ ...from('2026-01-01T00:10:00Z', 60_029), cause: 'fault' }], thirtyTwoMinutes, []).outageMinutes).toBe(1);
    // 201 ms up of 20 000 ms = 1.005 % exactly → 1.01 (1.005 × 100 is 100.4999… in binary); 20 000 ms = 0.333 minutes, 19 799 ms = 0.330.
    expect(portUptime([{ ...from('2026-01-01T00:00:00Z', 19_799), cause: 'fault' }], from('2026-01-01T00:00:00Z', 20_000), [])).toEqual({
      periodMinutes: 0.333,
      outageMinutes: 0.33,
      excludedMinutes: 0,
      uptimePercent: 1.01,
    });
  });

  it('refuses an empty period and an outage that ends before it starts', () => {
    expect(() => portUptime([], { start: day.start, end: day.start }, [])).toThrow(/positive length/);
    expect(() => portUptime([], { start: day.end, end: day.start }, [])).toThrow(/positive length/);
    const backwards = [outage('2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z'), outage('2026-01-01T05:00:00Z', '2026-01-01T04:00:00Z', 'offline')];
    expect(() => portUptime(backwards, day, [])).toThrow('outages[1] (offline) ends before it starts: 2026-01-01T05:00:00.000Z > 2026-01-01T04:00:00.000Z');
    expect(() => portUptime([{ start: new Date(Number.NaN), end: day.end, cause: 'fault' }], day, [])).toThrow(/outages\[0\]\.start must be a valid Date/);
  });
});

describe('outages traced to their cause', () => {
  const month = { start: at('2026-05-01T00:00:00Z'), end: at('2026-06-01T00:00:00Z') };

  it('counts the charger offline from its own disconnect, when it stayed away longer than the grace; never our gateway’s', () => {
    const entries = [
      { kind: 'disconnected' as const, at: at('2026-05-02T10:00:00Z'), byGateway: false },
      { kind: 'connected' as const, at: at('2026-05-02T10:10:00Z'), byGateway: false }, // 10 minutes: within a 15-minute grace
      { kind: 'disconnected' as const, at: at('2026-05-03T10:00:00Z'), byGateway: false },
      { kind: 'connected' as const, at: at('2026-05-03T13:00:00Z'), byGateway: false },
      { kind: 'disconnected' as const, at: at('2026-05-04T10:00:00Z'), byGateway: true }, // Concierge restarted
      { kind: 'connected' as const, at: at('2026-05-04T12:00:00Z'), byGateway: false },
      { kind: 'disconnected' as const, at: at('2026-05-31T23:00:00Z'), byGateway: false }, // still away at the end
    ];
    expect(offlineOutages(entries, 15 * MINUTE, month)).toEqual([
      { start: at('2026-05-03T10:00:00Z'), end: at('2026-05-03T13:00:00Z'), cause: 'offline' },
      { start: at('2026-05-31T23:00:00Z'), end: month.end, cause: 'offline' },
    ]);
  });

  it('takes the cause from the covering incident’s root cause when it is an exclusion cause, and names the incident either way', () => {
    const outages = [outage('2026-05-05T08:00:00Z', '2026-05-05T12:00:00Z'), outage('2026-05-06T08:00:00Z', '2026-05-06T09:00:00Z'), outage('2026-05-07T08:00:00Z', '2026-05-07T09:00:00Z')];
    const incidents = [
      { id: 'i-utility', from: at('2026-05-05T07:59:00Z'), to: at('2026-05-05T12:30:00Z'), rootCause: 'utility' },
      { id: 'i-undiagnosed', from: at('2026-05-05T07:00:00Z'), to: at('2026-05-05T13:00:00Z'), rootCause: null },
      { id: 'i-hardware', from: at('2026-05-06T08:00:00Z'), to: null, rootCause: 'hardware' },
    ];
    expect(attributeOutages(outages, incidents)).toEqual([
      { ...outages[0], cause: 'utility', incidentId: 'i-utility' },
      { ...outages[1], cause: 'fault', incidentId: 'i-hardware' },
      { ...outages[2], cause: 'fault', incidentId: 'i-hardware' },
    ]);
  });

  it('caps vandalism per event and scheduled maintenance per year, in time order; the excess counts', () => {
    const vandalism = { ...outage('2026-05-01T00:00:00Z', '2026-05-13T00:00:00Z', 'vandalism'), incidentId: 'v1' };
    const maintenance = [outage('2026-01-10T00:00:00Z', '2026-01-12T00:00:00Z', 'scheduled-maintenance'), outage('2026-05-20T00:00:00Z', '2026-05-21T12:00:00Z', 'scheduled-maintenance')];
    const capped = capExclusions([vandalism, ...maintenance], { vandalismDaysPerEvent: 10, scheduledMaintenanceHoursPerYear: 72 }, (d) => String(d.getUTCFullYear()));
    expect(capped).toEqual([
      { ...maintenance[0] },
      { ...vandalism, end: at('2026-05-11T00:00:00Z') },
      { ...vandalism, start: at('2026-05-11T00:00:00Z'), overCap: true },
      // 48 of the year's 72 hours were used in January: 24 more are excused in May.
      { ...maintenance[1], end: at('2026-05-21T00:00:00Z') },
      { ...maintenance[1], start: at('2026-05-21T00:00:00Z'), overCap: true },
    ]);
    // May: 12 days of vandalism (2 over the cap) and 36 h of maintenance (12 h over) → 2 days 12 h count.
    const result = portUptime(capped, month, NEVI_EXCLUSIONS);
    expect(result).toMatchObject({ outageMinutes: (12 * 24 + 36) * 60, excludedMinutes: (10 * 24 + 24) * 60 });
    expect(result.uptimePercent).toBe(Math.round(((31 * 24 - 60) / (31 * 24)) * 10_000) / 100);
  });
});

