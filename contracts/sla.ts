import { addBusinessTime, type BusinessCalendar } from './calendar.js';

/** Response and fix targets of an incident, on a support calendar (none = 24/7). */
export interface SlaTargets {
  respondWithinMs: number;
  fixWithinMs: number;
  calendar?: BusinessCalendar;
}

export interface SlaDeadlines {
  respondBy: Date;
  fixBy: Date;
}

/** respondBy / fixBy = openedAt + the response / fix target counted in the calendar's open hours (wall-clock time without a calendar). */
export function slaDeadlines(openedAt: Date, targets: SlaTargets): SlaDeadlines {
  const add = (ms: number) => (targets.calendar ? addBusinessTime(openedAt, ms, targets.calendar) : new Date(openedAt.getTime() + ms));
  return { respondBy: add(targets.respondWithinMs), fixBy: add(targets.fixWithinMs) };
}
