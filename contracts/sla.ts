import type { BusinessCalendar } from './calendar.js';
import { instantAt, newClock } from './sla-clock.js';

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

/** respondBy / fixBy = openedAt + the response / fix target counted in the calendar's open hours (wall-clock time without a calendar): the clocks' breach instants when nothing pauses them. */
export function slaDeadlines(openedAt: Date, targets: SlaTargets): SlaDeadlines {
  const deadline = (name: 'response' | 'fix', ms: number) => instantAt(newClock(name, ms, targets.calendar ?? null, openedAt), ms)!;
  return { respondBy: deadline('response', targets.respondWithinMs), fixBy: deadline('fix', targets.fixWithinMs) };
}
