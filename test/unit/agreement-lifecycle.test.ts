import { describe, expect, it } from 'vitest';
import { nextNoticeDeadline, planLifecycle, settlementInstant, type LifecycleState, type LifecycleTerms } from '../../contracts/agreement-lifecycle.js';

const vienna = 'Europe/Vienna';
const terms = (overrides: Partial<LifecycleTerms> = {}): LifecycleTerms => ({
  agreementId: 'a',
  inForce: true,
  version: 1,
  timeZone: vienna,
  term: { start: '2026-01-01', end: '2028-12-31', renewal: 'auto-yearly', noticePeriodDays: 90 },
  settlementDay: 5,
  firstManagedMonth: '2026-03',
  ...overrides,
});
const state = (overrides: Partial<LifecycleState> = {}): LifecycleState => ({ agreementId: 'a', settledThrough: null, remindedDeadlines: [], ...overrides });

describe('agreement lifecycle', () => {
  it('settles a month on the settlement day of the month after, at 06:00 in the agreement’s zone (across DST)', () => {
    expect(settlementInstant('2026-03', 5, vienna).toISOString()).toBe('2026-04-05T04:00:00.000Z'); // CEST
    expect(settlementInstant('2026-10', 1, vienna).toISOString()).toBe('2026-11-01T05:00:00.000Z'); // CET
    expect(settlementInstant('2026-12', 28, 'America/New_York').toISOString()).toBe('2027-01-28T11:00:00.000Z');
  });

  it('catches up every month whose settlement day has passed, from the first month Concierge managed, oldest first', () => {
    const plan = planLifecycle(terms(), state(), new Date('2026-07-05T04:00:00Z'));
    expect(plan.settle).toEqual(['2026-03', '2026-04', '2026-05', '2026-06']);
    expect(planLifecycle(terms(), state(), new Date('2026-07-05T03:59:59Z')).settle).toEqual(['2026-03', '2026-04', '2026-05']);
    // Then it sleeps until the next month's settlement instant.
    expect(planLifecycle(terms(), state({ settledThrough: '2026-06' }), new Date('2026-07-05T04:00:00Z'))).toEqual({ settle: [], remind: null, wakeAt: new Date('2026-08-05T04:00:00Z') });
  });

  it('starts no earlier than the term, and stops after the last month of a term that does not renew', () => {
    const fixed = terms({ firstManagedMonth: '2025-11', term: { start: '2026-02-15', end: '2026-04-30', renewal: 'none', noticePeriodDays: 0 } });
    const plan = planLifecycle(fixed, state(), new Date('2027-01-01T00:00:00Z'));
    expect(plan.settle).toEqual(['2026-02', '2026-03', '2026-04']);
    expect(planLifecycle(fixed, state({ settledThrough: '2026-04' }), new Date('2027-01-01T00:00:00Z'))).toEqual({ settle: [], remind: null, wakeAt: null });
  });

  it('ends with a removed agreement', () => {
    expect(planLifecycle(terms({ inForce: false }), state(), new Date('2026-07-05T04:00:00Z'))).toEqual({ settle: [], remind: null, wakeAt: null });
  });

  it('finds the notice deadline of the current term: term end − notice period, then each renewal’s', () => {
    // Alpina: ends 2028-12-31, 90 days' notice → notice by 2028-10-03 (90 days before 2029-01-01).
    expect(nextNoticeDeadline(terms(), new Date('2026-07-01T00:00:00Z'))).toMatchObject({ deadline: '2028-10-03', termEnds: '2028-12-31' });
    expect(nextNoticeDeadline(terms(), new Date('2028-10-03T12:00:00Z'))).toMatchObject({ deadline: '2028-10-03' });
    // Missed: it renewed for a year, to 2029-12-31.
    expect(nextNoticeDeadline(terms(), new Date('2028-10-04T12:00:00Z'))).toMatchObject({ deadline: '2029-10-03', termEnds: '2029-12-31' });
    // Monthly renewal after a fixed term: Harbour, 60 days, ends 2031-06-30.
    const monthly = terms({ term: { start: '2026-07-01', end: '2031-06-30', renewal: 'auto-monthly', noticePeriodDays: 60 } });
    expect(nextNoticeDeadline(monthly, new Date('2031-05-01T12:00:00Z'))).toMatchObject({ deadline: '2031-05-02', termEnds: '2031-06-30' });
    expect(nextNoticeDeadline(monthly, new Date('2031-05-03T12:00:00Z'))).toMatchObject({ deadline: '2031-06-02', termEnds: '2031-07-31' });
    // Yearly renewal without an end: anniversaries of the start.
    expect(nextNoticeDeadline(terms({ term: { start: '2026-01-01', renewal: 'auto-yearly', noticePeriodDays: 30 } }), new Date('2026-12-10T12:00:00Z'))).toMatchObject({ deadline: '2027-12-02', termEnds: '2027-12-31' });
    // No notice period: notice on the last day at the latest. Open-ended without renewal: never.
    expect(nextNoticeDeadline(terms({ term: { start: '2026-01-01', end: '2026-12-31', renewal: 'none', noticePeriodDays: 0 } }), new Date('2026-12-31T12:00:00Z'))).toMatchObject({ deadline: '2026-12-31' });
    expect(nextNoticeDeadline(terms({ term: { start: '2026-01-01', renewal: 'none', noticePeriodDays: 30 } }), new Date('2026-12-31T12:00:00Z'))).toBeNull();
  });

  it('reminds of a notice deadline 30 days ahead, once, and then looks for the next one', () => {
    const before = planLifecycle(terms(), state({ settledThrough: '2028-07' }), new Date('2028-08-20T12:00:00Z'));
    expect(before.remind).toBeNull();
    // 2028-10-03 − 30 days = 2028-09-03, at 09:00 Vienna.
    expect(before.wakeAt).toEqual(new Date('2028-09-03T07:00:00Z'));
    const due = planLifecycle(terms(), state({ settledThrough: '2028-07' }), new Date('2028-09-03T07:00:00Z'));
    expect(due.remind).toMatchObject({ deadline: '2028-10-03', termEnds: '2028-12-31', renewal: 'auto-yearly' });
    const reminded = planLifecycle(terms(), state({ settledThrough: '2028-07', remindedDeadlines: ['2028-10-03'] }), new Date('2028-09-03T07:00:00Z'));
    expect(reminded.remind).toBeNull();
    expect(reminded.wakeAt).toEqual(new Date('2028-09-05T04:00:00Z'));
    // With August settled too, it wakes the day after the deadline (Vienna midnight) to find the next one.
    expect(planLifecycle(terms(), state({ settledThrough: '2028-08', remindedDeadlines: ['2028-10-03'] }), new Date('2028-09-06T07:00:00Z')).wakeAt).toEqual(new Date('2028-10-03T22:00:00Z'));
    // Started within 30 days of a deadline: the reminder goes at once.
    expect(planLifecycle(terms(), state({ settledThrough: '2028-08' }), new Date('2028-09-20T12:00:00Z')).remind).toMatchObject({ deadline: '2028-10-03' });
  });
});
