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

/** A connection change of the charger, as the event log holds it. */
export interface ConnectionEntry {
  kind: 'connected' | 'disconnected';
  at: Date;
  /** Concierge's own gateway went away (a stop, restart or crash), not the charger. */
  byGateway: boolean;
}

/**
 * The charger's offline outages (every port down): from a disconnect of its own doing until it
 * connects again, when that lasted longer than the offline grace period (a shorter absence is a
 * reconnect, as the connectivity watch sees it). A disconnect caused by our gateway going away is
 * not the charger's outage.
 */
export function offlineOutages(entries: ConnectionEntry[], graceMs: number, period: Interval): Outage[] {
  const outages: Outage[] = [];
  let since: Date | null = null;
  for (const entry of [...entries].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (entry.kind === 'disconnected' && !entry.byGateway && !since) since = entry.at;
    if (entry.kind === 'connected' && since) {
      if (entry.at.getTime() - since.getTime() > graceMs) outages.push({ start: since, end: entry.at, cause: 'offline' });
      since = null;
    }
  }
  if (since && period.end.getTime() - since.getTime() > graceMs) outages.push({ start: since, end: period.end, cause: 'offline' });
  return outages.map((o) => ({ ...o, start: o.start < period.start ? period.start : o.start })).filter((o) => o.end > o.start);
}

/** An incident as uptime reads it: the time it covered and the root cause the field crew found. */
export interface IncidentCover {
  id: string;
  /** Its first fault (or its opening, if earlier) until it was resolved or cancelled; open: null. */
  from: Date;
  to: Date | null;
  rootCause: string | null;
}

/** Root causes that are NEVI exclusion causes, by the cause's name. */
const EXCLUDABLE_ROOT_CAUSES: ReadonlySet<string> = new Set<OutageCause>(['utility', 'vandalism', 'vehicle', 'scheduled-maintenance', 'natural-disaster']);

/**
 * Each outage with the incident that covered it (the earliest overlapping one with a diagnosed
 * root cause, else the earliest overlapping one), and the cause that root cause gives it: an
 * excludable root cause (utility, vandalism, vehicle, scheduled maintenance, natural disaster)
 * becomes the outage's cause; any other leaves the cause as the status log said.
 */
export function attributeOutages(outages: Outage[], incidents: IncidentCover[]): Outage[] {
  const byStart = [...incidents].sort((a, b) => a.from.getTime() - b.from.getTime());
  return outages.map((outage) => {
    const overlapping = byStart.filter((i) => i.from < outage.end && (i.to === null || i.to > outage.start));
    const cover = overlapping.find((i) => i.rootCause !== null) ?? overlapping[0];
    if (!cover) return outage;
    const cause = cover.rootCause && EXCLUDABLE_ROOT_CAUSES.has(cover.rootCause) ? (cover.rootCause as OutageCause) : outage.cause;
    return { ...outage, cause, incidentId: cover.id };
  });
}

/**
 * The agreement's caps on exclusions (California's rules): vandalism is excluded for at most
 * `vandalismDaysPerEvent` per event (an event is one incident, or one outage without one), and
 * scheduled maintenance for at most `scheduledMaintenanceHoursPerYear` per calendar year in the
 * site's zone — both used up in time order. What exceeds a cap is split off as `overCap`.
 * `outages` must reach back to the start of the year for the maintenance cap to know what is used.
 */
export function capExclusions(outages: Outage[], caps: { vandalismDaysPerEvent?: number; scheduledMaintenanceHoursPerYear?: number } | undefined, yearOf: (at: Date) => string): Outage[] {
  if (!caps) return outages;
  const sorted = [...outages].sort((a, b) => a.start.getTime() - b.start.getTime());
  const used = new Map<string, number>();
  const result: Outage[] = [];
  for (const outage of sorted) {
    const budgetKey =
      outage.cause === 'vandalism' && caps.vandalismDaysPerEvent !== undefined
        ? { key: `vandalism:${outage.incidentId ?? outage.start.toISOString()}`, limit: caps.vandalismDaysPerEvent * 86_400_000 }
        : outage.cause === 'scheduled-maintenance' && caps.scheduledMaintenanceHoursPerYear !== undefined
          ? { key: `maintenance:${yearOf(outage.start)}`, limit: caps.scheduledMaintenanceHoursPerYear * 3_600_000 }
          : null;
    if (!budgetKey) {
      result.push(outage);
      continue;
    }
    const spent = used.get(budgetKey.key) ?? 0;
    const length = outage.end.getTime() - outage.start.getTime();
    const allowed = Math.max(0, Math.min(length, budgetKey.limit - spent));
    used.set(budgetKey.key, spent + allowed);
    const split = new Date(outage.start.getTime() + allowed);
    if (allowed > 0) result.push({ ...outage, end: split });
    if (allowed < length) result.push({ ...outage, start: split, overCap: true });
  }
  return result;
}
