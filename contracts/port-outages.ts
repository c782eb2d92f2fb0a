import { openIntervals, type BusinessCalendar, type Interval } from './calendar.js';
import type { Outage, OutageCause } from './uptime.js';

/** A connector status report as the status log holds it. */
export interface StatusEntry {
  status: string;
  at: Date;
}

/** Statuses in which a port cannot charge: Faulted is a fault; Unavailable is out of service for a reason not yet known. */
const DOWN: Record<string, OutageCause> = { Faulted: 'fault', Unavailable: 'unknown' };

/**
 * A port's outages in a period, from its status reports in time order (the last report before
 * the period included, so the period starts in the right state). A port is down from a down
 * status until the next status that is not down; a port still down at the end is down to the end.
 */
export function outagesFromStatuses(entries: StatusEntry[], period: Interval): Outage[] {
  const outages: Outage[] = [];
  let open: { start: Date; cause: OutageCause } | null = null;
  for (const { status, at } of entries) {
    const cause = DOWN[status];
    if (open && cause !== open.cause) {
      outages.push({ start: open.start, end: at, cause: open.cause });
      open = null;
    }
    if (cause && !open) open = { start: at, cause };
  }
  if (open) outages.push({ start: open.start, end: period.end, cause: open.cause });
  return outages
    .map((o) => ({ ...o, start: o.start < period.start ? period.start : o.start, end: o.end > period.end ? period.end : o.end }))
    .filter((o) => o.end > o.start);
}

/** The parts of outages that fall outside the site's operating hours, as outages with that cause (NEVI allows excluding them). */
export function outsideOperatingHours(outages: Outage[], operatingHours: BusinessCalendar): Outage[] {
  return outages.flatMap((outage) => {
    const open = openIntervals(outage.start, outage.end, operatingHours);
    const closed: Outage[] = [];
    let cursor = outage.start;
    for (const interval of open) {
      if (interval.start > cursor) closed.push({ start: cursor, end: interval.start, cause: 'outside-operating-hours' });
      if (interval.end > cursor) cursor = interval.end;
    }
    if (cursor < outage.end) closed.push({ start: cursor, end: outage.end, cause: 'outside-operating-hours' });
    return closed;
  });
}
