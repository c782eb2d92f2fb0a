import { siteOf, calendarFor } from '../contracts/agreement-terms.js';
import type { Agreement } from '../contracts/agreement.js';
import type { Interval } from '../contracts/calendar.js';
import { outagesFromStatuses, outsideOperatingHours, type StatusEntry } from '../contracts/port-outages.js';
import { portUptime, type UptimeResult } from '../contracts/uptime.js';
import type { Db } from '../db/connect.js';

/**
 * A port's uptime over a period from the status log: its own reports and the whole charger's
 * (connector 0), each with the last report before the period; outages outside the site's operating
 * hours are excluded when the agreement excludes that cause. Only the part of the period already
 * past (until `now`) is measured — the future is neither uptime nor outage — and `measuredUntil`
 * says where the measurement ended.
 */
export async function portUptimeFromHistory(
  db: Db,
  agreement: Agreement,
  chargerId: string,
  connectorId: number,
  asked: Interval,
  now = new Date(),
): Promise<UptimeResult & { measuredUntil: string }> {
  const site = siteOf(agreement, chargerId);
  if (!site) throw new Error(`agreement ${agreement.id} does not cover charger ${chargerId}`);
  if (asked.start >= now) throw new Error(`the period starts at ${asked.start.toISOString()}, which has not come yet: nothing to measure`);
  const period = { start: asked.start, end: asked.end < now ? asked.end : now };
  const outages = (await Promise.all([connectorId, 0].map((connector) => statusHistory(db, chargerId, connector, period)))).flatMap((entries) =>
    outagesFromStatuses(entries, period),
  );
  const excluded = agreement.sla.uptime.excludedCauses;
  const withHours = excluded.includes('outside-operating-hours')
    ? [...outages, ...outsideOperatingHours(outages, calendarFor(agreement, site.operatingHours, site.timeZone))]
    : outages;
  return { ...portUptime(withHours, period, excluded), measuredUntil: period.end.toISOString() };
}

async function statusHistory(db: Db, chargerId: string, connectorId: number, period: Interval): Promise<StatusEntry[]> {
  const base = db.selectFrom('statusLog').select(['status', 'reportedAt as at']).where('chargerId', '=', chargerId).where('connectorId', '=', connectorId);
  const [before, during] = await Promise.all([
    base.where('reportedAt', '<', period.start).orderBy('reportedAt', 'desc').orderBy('id', 'desc').limit(1).execute(),
    base.where('reportedAt', '>=', period.start).where('reportedAt', '<', period.end).orderBy('reportedAt').orderBy('id').execute(),
  ]);
  return [...before, ...during];
}
