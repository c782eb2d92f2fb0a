import { DateTime } from 'luxon';
import type { Agreement } from './agreement.js';

/**
 * The calendar of an agreement's life, as the agreement workflow (`agreement:<id>`) follows it:
 * when each month is settled, when its term ends and renews, and when notice must be given.
 * Pure and deterministic: the workflow calls it with workflow time, the tests with any instant.
 * Every date is in the agreement's time zone (its first site's, as the statement's months are).
 */

/** A month is settled on the agreement's settlement day of the month after, at this hour: sessions still running at midnight have ended and been priced by then. */
export const SETTLEMENT_HOUR = 6;
/** The reminder before a notice deadline goes this many days ahead of it (at once if the deadline is nearer). */
export const NOTICE_REMINDER_DAYS = 30;

/** What the workflow needs to know of an agreement's version in force, read by an activity. */
export interface LifecycleTerms {
  agreementId: string;
  /** False once the agreement's file is gone (its last version removed): the workflow ends. */
  inForce: boolean;
  version: number;
  timeZone: string;
  term: Agreement['term'];
  settlementDay: number;
  /** The month (yyyy-mm, in the agreement's zone) in which Concierge first knew the agreement: months before it are settled only on demand. */
  firstManagedMonth: string;
}

/** What the workflow carries from one run to the next (continue-as-new). */
export interface LifecycleState {
  agreementId: string;
  /** The last month whose settlement was started; null before the first. */
  settledThrough: string | null;
  /** The notice deadlines (yyyy-mm-dd) already reminded of. */
  remindedDeadlines: string[];
}

export interface NoticeDeadline {
  /** The last day (yyyy-mm-dd) on which notice can be given to end the agreement at `termEnds`. */
  deadline: string;
  /** The last day of the current term (yyyy-mm-dd); without notice it renews (or, with renewal `none`, simply ends). */
  termEnds: string;
  renewal: Agreement['term']['renewal'];
  /** When the reminder is due. */
  remindAt: Date;
}

export interface LifecyclePlan {
  /** Months whose settlement day has come, oldest first: start their settlement now. */
  settle: string[];
  /** A notice deadline whose reminder is due now (and not yet sent). */
  remind: NoticeDeadline | null;
  /** When something is next due; null when nothing ever will be (the agreement has ended and is settled). */
  wakeAt: Date | null;
}

const monthOf = (d: DateTime) => d.toFormat('yyyy-MM');
const startOfMonth = (month: string, zone: string) => DateTime.fromISO(`${month}-01T00:00:00`, { zone });
export const nextMonth = (month: string) => DateTime.fromISO(`${month}-01`, { zone: 'UTC' }).plus({ months: 1 }).toFormat('yyyy-MM');

/** When a month is settled: the settlement day of the month after, at SETTLEMENT_HOUR, in the agreement's zone. */
export function settlementInstant(month: string, settlementDay: number, timeZone: string): Date {
  return startOfMonth(month, timeZone).plus({ months: 1 }).set({ day: settlementDay, hour: SETTLEMENT_HOUR }).toJSDate();
}

/** The month (yyyy-mm) an instant falls in, in a zone. */
export function monthAt(instant: Date, timeZone: string): string {
  return monthOf(DateTime.fromJSDate(instant, { zone: timeZone }));
}

/**
 * The last day of the first of the agreement's terms to end on or after `from`: `term.end`, then —
 * renewing — a year or a month later each time (without `term.end`, renewals count from
 * `term.start`). Null for an open-ended term that does not renew, or one that has ended.
 */
function termEndOnOrAfter(term: Agreement['term'], from: DateTime): DateTime | null {
  const step = term.renewal === 'auto-yearly' ? 'years' : term.renewal === 'auto-monthly' ? 'months' : null;
  // Counted as exclusive ends (the day after the last day), so month-end renewals stay on month ends.
  const first = term.end ? DateTime.fromISO(term.end, { zone: from.zone }).plus({ days: 1 }) : step ? DateTime.fromISO(term.start, { zone: from.zone }).plus({ [step]: 1 }) : null;
  for (let n = 0; first; n++) {
    const last = (step ? first.plus({ [step]: n }) : first).minus({ days: 1 });
    if (last >= from) return last;
    if (!step) return null;
  }
  return null;
}

/**
 * The next notice deadline on or after `now`'s day: the last day on which notice can be given with
 * the notice period still to run before the term ends (the term's last day itself when the period is 0).
 */
export function nextNoticeDeadline(terms: Pick<LifecycleTerms, 'term' | 'timeZone'>, now: Date): NoticeDeadline | null {
  const today = DateTime.fromJSDate(now, { zone: terms.timeZone }).startOf('day');
  const notice = terms.term.noticePeriodDays;
  const termEnds = termEndOnOrAfter(terms.term, today.plus({ days: Math.max(notice - 1, 0) }));
  if (!termEnds) return null;
  const deadline = notice === 0 ? termEnds : termEnds.plus({ days: 1 - notice });
  return {
    deadline: deadline.toISODate()!,
    termEnds: termEnds.toISODate()!,
    renewal: terms.term.renewal,
    remindAt: DateTime.max(deadline.minus({ days: NOTICE_REMINDER_DAYS }), today).set({ hour: 9 }).toJSDate(),
  };
}

/** The last month of the agreement (yyyy-mm), or null while it renews or runs open-ended. */
export function lastMonth(term: Agreement['term']): string | null {
  return term.renewal === 'none' && term.end ? term.end.slice(0, 7) : null;
}

/**
 * What is due at `now`: every month from the one after `settledThrough` (or the first managed
 * month, not before the term's start) whose settlement instant has come, up to the term's last
 * month; the reminder of the next notice deadline, if its time has come and it was not sent; and
 * when to look again.
 */
export function planLifecycle(terms: LifecycleTerms, state: LifecycleState, now: Date): LifecyclePlan {
  if (!terms.inForce) return { settle: [], remind: null, wakeAt: null };
  const termStartMonth = terms.term.start.slice(0, 7);
  const last = lastMonth(terms.term);
  let month = state.settledThrough ? nextMonth(state.settledThrough) : [terms.firstManagedMonth, termStartMonth].sort()[1]!;
  const settle: string[] = [];
  while ((last === null || month <= last) && settlementInstant(month, terms.settlementDay, terms.timeZone) <= now) {
    settle.push(month);
    month = nextMonth(month);
  }
  const nextSettlement = last !== null && month > last ? null : settlementInstant(month, terms.settlementDay, terms.timeZone);

  const notice = nextNoticeDeadline(terms, now);
  const pending = notice && !state.remindedDeadlines.includes(notice.deadline) ? notice : null;
  const remind = pending && pending.remindAt <= now ? pending : null;
  // Once a deadline is reminded of, look again the day after it, for the next one.
  const nextNotice = pending ? pending.remindAt : notice ? DateTime.fromISO(notice.deadline, { zone: terms.timeZone }).plus({ days: 1 }).toJSDate() : null;

  // An agreement that has ended and is settled needs nothing more (no reminders either).
  const wakeAt = nextSettlement === null ? null : nextNotice && nextNotice < nextSettlement ? nextNotice : nextSettlement;
  return { settle, remind, wakeAt };
}
