import { DateTime } from 'luxon';
import { calendarFor, siteIncidentChargerId, siteOf } from '../contracts/agreement-terms.js';
import { durationMs, type Agreement } from '../contracts/agreement.js';
import type { Interval } from '../contracts/calendar.js';
import { GATEWAY_WENT_AWAY } from '../contracts/connectivity.js';
import type { Incident } from '../contracts/incident.js';
import { attributeOutages, capExclusions, offlineOutages, outagesFromStatuses, outsideOperatingHours, type ConnectionEntry, type IncidentCover, type StatusEntry } from '../contracts/port-outages.js';
import { portUptime, type Outage, type OutageCause, type UptimeResult } from '../contracts/uptime.js';
import type { Db } from '../db/connect.js';

/** An outage as a statement and its evidence show it: when, why, which incident, and whether it counted. */
export interface TracedOutage {
  start: string;
  end: string;
  cause: OutageCause;
  incidentId: string | null;
  /** Excused by the agreement (its cause is excluded and within the cap). */
  excluded: boolean;
  overCap: boolean;
}

export type PortUptime = UptimeResult & { measuredUntil: string; outages: TracedOutage[] };

/**
 * A port's NEVI uptime over a period: its outages from the status log (its own reports and the
 * whole charger's, connector 0, each with the last report before), the charger's offline periods
 * (charger_events: away longer than the offline grace, not by our gateway), each attributed to the
 * incident that covered it and its diagnosed root cause, excluded by the agreement's causes within
 * its caps, and time outside the site's operating hours when the agreement excludes that. Only the
 * part of the period already past (until `now`) is measured — the future is neither uptime nor
 * outage — and `measuredUntil` says where the measurement ended. Each outage is returned with its
 * incident and cause, so every number can be traced.
 */
export async function portUptimeFromHistory(db: Db, agreement: Agreement, chargerId: string, connectorId: number, asked: Interval, now = new Date()): Promise<PortUptime> {
  const site = siteOf(agreement, chargerId);
  if (!site) throw new Error(`agreement ${agreement.id} does not cover charger ${chargerId}`);
  if (asked.start >= now) throw new Error(`the period starts at ${asked.start.toISOString()}, which has not come yet: nothing to measure`);
  const period = { start: asked.start, end: asked.end < now ? asked.end : now };
  const { uptime } = agreement.sla;
  // The maintenance cap is per calendar year: what the year used before the period counts against it.
  const yearOf = (at: Date) => DateTime.fromJSDate(at, { zone: site.timeZone }).toFormat('yyyy');
  const window = uptime.caps?.scheduledMaintenanceHoursPerYear ? { start: DateTime.fromJSDate(period.start, { zone: site.timeZone }).startOf('year').toJSDate(), end: period.end } : period;

  const [portStatuses, chargerStatuses, connections, incidents] = await Promise.all([
    statusHistory(db, chargerId, connectorId, window),
    statusHistory(db, chargerId, 0, window),
    connectionHistory(db, chargerId, window),
    incidentCovers(db, chargerId, connectorId, site.id, window),
  ]);
  const outages = [
    ...outagesFromStatuses(portStatuses, window),
    ...outagesFromStatuses(chargerStatuses, window),
    ...offlineOutages(connections, durationMs(agreement.incidents.offlineGracePeriod), window),
  ];
  const capped = capExclusions(attributeOutages(outages, incidents), uptime.caps, yearOf).filter((o) => o.end > period.start);
  const excluded = uptime.excludedCauses;
  const withHours = excluded.includes('outside-operating-hours') ? [...capped, ...outsideOperatingHours(capped, calendarFor(agreement, site.operatingHours, site.timeZone))] : capped;
  const clip = (o: Outage) => ({ ...o, start: o.start < period.start ? period.start : o.start, end: o.end > period.end ? period.end : o.end });
  return {
    ...portUptime(withHours, period, excluded),
    measuredUntil: period.end.toISOString(),
    outages: capped
      .map(clip)
      .filter((o) => o.end > o.start)
      .sort((a, b) => a.start.getTime() - b.start.getTime())
      .map((o) => ({ start: o.start.toISOString(), end: o.end.toISOString(), cause: o.cause, incidentId: o.incidentId ?? null, excluded: excluded.includes(o.cause as (typeof excluded)[number]) && !o.overCap, overCap: o.overCap ?? false })),
  };
}

/** The charger's connects and disconnects in the window, with the last one before it. */
async function connectionHistory(db: Db, chargerId: string, window: Interval): Promise<ConnectionEntry[]> {
  const base = db.selectFrom('chargerEvents').select(['kind', 'at', 'data']).where('chargerId', '=', chargerId).where('kind', 'in', ['connected', 'disconnected']);
  const [before, during] = await Promise.all([
    base.where('at', '<', window.start).orderBy('at', 'desc').orderBy('id', 'desc').limit(1).execute(),
    base.where('at', '>=', window.start).where('at', '<', window.end).orderBy('at').orderBy('id').execute(),
  ]);
  return [...before, ...during].map((e) => ({
    kind: e.kind as ConnectionEntry['kind'],
    at: e.at,
    byGateway: (e.data as { reason?: string } | null)?.reason === GATEWAY_WENT_AWAY,
  }));
}

/**
 * Incidents on the port, on the whole charger, or on its whole site, that overlap the window. An
 * incident covers from its first fault, which a charger may report with a time before the incident
 * opened (a fault it stored while offline and sent when it reconnected, or a month replayed).
 */
async function incidentCovers(db: Db, chargerId: string, connectorId: number, siteId: string, window: Interval): Promise<IncidentCover[]> {
  const rows = await db
    .selectFrom('incidents')
    .select((eb) => ['id', 'openedAt', 'resolvedAt', 'state', eb.selectFrom('incidentFaults').whereRef('incidentFaults.incidentId', '=', 'incidents.id').select((f) => f.fn.min('at').as('at')).as('firstFaultAt')])
    .where((eb) => eb.or([eb.and([eb('chargerId', '=', chargerId), eb('connectorId', 'in', [connectorId, 0])]), eb('chargerId', '=', siteIncidentChargerId(siteId))]))
    .where((eb) =>
      eb.or([eb('openedAt', '<', window.end), eb.exists(eb.selectFrom('incidentFaults').select('at').whereRef('incidentFaults.incidentId', '=', 'incidents.id').where('incidentFaults.at', '<', window.end))]),
    )
    .where((eb) => eb.or([eb('resolvedAt', 'is', null), eb('resolvedAt', '>', window.start)]))
    .execute();
  return rows.map((row) => {
    const state = row.state as Pick<Incident, 'rootCause' | 'cancelledAt'> | null;
    const firstFault = row.firstFaultAt ? new Date(row.firstFaultAt) : null;
    return {
      id: row.id,
      from: firstFault && firstFault < row.openedAt ? firstFault : row.openedAt,
      to: row.resolvedAt ?? (state?.cancelledAt ? new Date(state.cancelledAt) : null),
      rootCause: state?.rootCause?.cause ?? null,
    };
  });
}

async function statusHistory(db: Db, chargerId: string, connectorId: number, period: Interval): Promise<StatusEntry[]> {
  const base = db.selectFrom('statusLog').select(['status', 'reportedAt as at']).where('chargerId', '=', chargerId).where('connectorId', '=', connectorId);
  const [before, during] = await Promise.all([
    base.where('reportedAt', '<', period.start).orderBy('reportedAt', 'desc').orderBy('id', 'desc').limit(1).execute(),
    base.where('reportedAt', '>=', period.start).where('reportedAt', '<', period.end).orderBy('reportedAt').orderBy('id').execute(),
  ]);
  return [...before, ...during];
}
