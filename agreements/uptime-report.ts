import { DateTime } from 'luxon';
import { calendarFor, siteIncidentChargerId, siteOf } from '../contracts/agreement-terms.js';
import { durationMs, type Agreement } from '../contracts/agreement.js';
import type { Interval } from '../contracts/calendar.js';
import { GATEWAY_WENT_AWAY } from '../contracts/connectivity.js';
import type { Incident } from '../contracts/incident.js';
import { attributeOutages, capExclusions, offlineOutages, outagesFromStatuses, outsideOperatingHours, type ConnectionEntry, type IncidentCover, type StatusEntry } from '../contracts/port-outages.js';
import { portUptime, type Outage, type OutageCause, type UptimeResult } from '../contracts/uptime.js';
import type { Db } from '../db/connect.js';
import { sql } from 'kysely';

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
  return (await portsUptimeFromHistory(db, agreement, [{ chargerId, connectorId }], asked, now))[0]!;
}

export interface Port {
  chargerId: string;
  connectorId: number;
}

/**
 * Several ports of an agreement measured as `portUptimeFromHistory` measures one, in order, with
 * their histories read together: a handful of queries for all of them rather than seven a port (a
 * month's settlement measures every port of the agreement).
 */
export async function portsUptimeFromHistory(db: Db, agreement: Agreement, ports: readonly Port[], asked: Interval, now = new Date()): Promise<PortUptime[]> {
  if (asked.start >= now) throw new Error(`the period starts at ${asked.start.toISOString()}, which has not come yet: nothing to measure`);
  const period = { start: asked.start, end: asked.end < now ? asked.end : now };
  const { uptime } = agreement.sla;
  const measured = ports.map((port) => {
    const site = siteOf(agreement, port.chargerId);
    if (!site) throw new Error(`agreement ${agreement.id} does not cover charger ${port.chargerId}`);
    // The maintenance cap is per calendar year: what the year used before the period counts against it.
    const window = uptime.caps?.scheduledMaintenanceHoursPerYear ? { start: DateTime.fromJSDate(period.start, { zone: site.timeZone }).startOf('year').toJSDate(), end: period.end } : period;
    return { ...port, site, window };
  });
  // Ports whose windows begin together (the sites of one time zone) are read together.
  const byWindow = new Map<number, typeof measured>();
  for (const port of measured) byWindow.set(port.window.start.getTime(), [...(byWindow.get(port.window.start.getTime()) ?? []), port]);
  const histories = new Map<string, Histories>();
  for (const group of byWindow.values()) {
    for (const [key, history] of await readHistories(db, group, group[0]!.window)) histories.set(key, history);
  }
  return measured.map(({ chargerId, connectorId, site, window }) => {
    const history = histories.get(portKey(chargerId, connectorId))!;
    const outages = [
      ...outagesFromStatuses(history.portStatuses, window),
      ...outagesFromStatuses(history.chargerStatuses, window),
      ...offlineOutages(history.connections, durationMs(agreement.incidents.offlineGracePeriod), window),
    ];
    const yearOf = (at: Date) => DateTime.fromJSDate(at, { zone: site.timeZone }).toFormat('yyyy');
    const capped = capExclusions(attributeOutages(outages, history.incidents), uptime.caps, yearOf).filter((o) => o.end > period.start);
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
  });
}

interface Histories {
  portStatuses: StatusEntry[];
  chargerStatuses: StatusEntry[];
  connections: ConnectionEntry[];
  incidents: IncidentCover[];
}

const portKey = (chargerId: string, connectorId: number) => `${chargerId}\u0000${connectorId}`;

/** The histories of ports that share a window, read in five queries: each port's with what its charger and site went through. */
async function readHistories(db: Db, ports: readonly (Port & { site: { id: string } })[], window: Interval): Promise<Map<string, Histories>> {
  const chargerIds = [...new Set(ports.map((p) => p.chargerId))];
  // Each port's own statuses and its charger's (connector 0).
  const connectors = [...new Map([...ports, ...chargerIds.map((chargerId) => ({ chargerId, connectorId: 0 }))].map((p) => [portKey(p.chargerId, p.connectorId), p])).values()];
  const [statuses, connections, incidents] = await Promise.all([statusHistories(db, connectors, window), connectionHistories(db, chargerIds, window), incidentCovers(db, ports, window)]);
  return new Map(
    ports.map((port) => [
      portKey(port.chargerId, port.connectorId),
      {
        portStatuses: statuses.get(portKey(port.chargerId, port.connectorId)) ?? [],
        chargerStatuses: statuses.get(portKey(port.chargerId, 0)) ?? [],
        connections: connections.get(port.chargerId) ?? [],
        incidents: incidents.filter((i) => (i.chargerId === port.chargerId && (i.connectorId === port.connectorId || i.connectorId === 0)) || i.chargerId === siteIncidentChargerId(port.site.id)),
      },
    ]),
  );
}

/** Each charger's connects and disconnects in the window, with the last one before it. */
async function connectionHistories(db: Db, chargerIds: readonly string[], window: Interval): Promise<Map<string, ConnectionEntry[]>> {
  const kinds = ['connected', 'disconnected'];
  const [before, during] = await Promise.all([
    db
      .selectFrom(sql<{ chargerId: string }>`(select unnest(${chargerIds}::text[]) as charger_id)`.as('c'))
      .innerJoinLateral(
        (eb) => eb.selectFrom('chargerEvents as e').select(['e.kind', 'e.at', 'e.data']).whereRef('e.chargerId', '=', 'c.chargerId').where('e.kind', 'in', kinds).where('e.at', '<', window.start).orderBy('e.at', 'desc').orderBy('e.id', 'desc').limit(1).as('last'),
        (join) => join.onTrue(),
      )
      .select(['c.chargerId', 'last.kind', 'last.at', 'last.data'])
      .execute(),
    db.selectFrom('chargerEvents').select(['chargerId', 'kind', 'at', 'data']).where('chargerId', 'in', chargerIds).where('kind', 'in', kinds).where('at', '>=', window.start).where('at', '<', window.end).orderBy('at').orderBy('id').execute(),
  ]);
  const histories = new Map<string, ConnectionEntry[]>();
  for (const e of [...before, ...during]) {
    const list = histories.get(e.chargerId) ?? [];
    list.push({ kind: e.kind as ConnectionEntry['kind'], at: e.at, byGateway: (e.data as { reason?: string } | null)?.reason === GATEWAY_WENT_AWAY });
    histories.set(e.chargerId, list);
  }
  return histories;
}

/**
 * Incidents on the ports, on their whole chargers, or on their whole sites, that overlap the
 * window. An incident covers from its first fault, which a charger may report with a time before
 * the incident opened (a fault it stored while offline and sent when it reconnected, or a month replayed).
 */
async function incidentCovers(db: Db, ports: readonly (Port & { site: { id: string } })[], window: Interval): Promise<(IncidentCover & { chargerId: string; connectorId: number })[]> {
  const rows = await db
    .selectFrom('incidents')
    .select((eb) => ['id', 'chargerId', 'connectorId', 'openedAt', 'resolvedAt', 'state', eb.selectFrom('incidentFaults').whereRef('incidentFaults.incidentId', '=', 'incidents.id').select((f) => f.fn.min('at').as('at')).as('firstFaultAt')])
    .where((eb) =>
      eb.or([
        eb.and([eb('chargerId', 'in', [...new Set(ports.map((p) => p.chargerId))]), eb('connectorId', 'in', [...new Set([0, ...ports.map((p) => p.connectorId)])])]),
        eb('chargerId', 'in', [...new Set(ports.map((p) => siteIncidentChargerId(p.site.id)))]),
      ]),
    )
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
      chargerId: row.chargerId,
      connectorId: row.connectorId,
      from: firstFault && firstFault < row.openedAt ? firstFault : row.openedAt,
      to: row.resolvedAt ?? (state?.cancelledAt ? new Date(state.cancelledAt) : null),
      rootCause: state?.rootCause?.cause ?? null,
    };
  });
}

/** Each connector's statuses in the window, with the last one before it, in the order reported. */
async function statusHistories(db: Db, connectors: readonly Port[], window: Interval): Promise<Map<string, StatusEntry[]>> {
  const chargerIds = connectors.map((c) => c.chargerId);
  const connectorIds = connectors.map((c) => c.connectorId);
  const [before, during] = await Promise.all([
    db
      .selectFrom(sql<{ chargerId: string; connectorId: number }>`(select unnest(${chargerIds}::text[]) as charger_id, unnest(${connectorIds}::int[]) as connector_id)`.as('p'))
      .innerJoinLateral(
        (eb) => eb.selectFrom('statusLog as l').select(['l.status', 'l.reportedAt']).whereRef('l.chargerId', '=', 'p.chargerId').whereRef('l.connectorId', '=', 'p.connectorId').where('l.reportedAt', '<', window.start).orderBy('l.reportedAt', 'desc').orderBy('l.id', 'desc').limit(1).as('last'),
        (join) => join.onTrue(),
      )
      .select(['p.chargerId', 'p.connectorId', 'last.status', 'last.reportedAt'])
      .execute(),
    db
      .selectFrom('statusLog')
      .select(['chargerId', 'connectorId', 'status', 'reportedAt'])
      .where('chargerId', 'in', [...new Set(chargerIds)])
      .where('connectorId', 'in', [...new Set(connectorIds)])
      .where('reportedAt', '>=', window.start)
      .where('reportedAt', '<', window.end)
      .orderBy('reportedAt')
      .orderBy('id')
      .execute(),
  ]);
  const histories = new Map<string, StatusEntry[]>();
  for (const row of [...before, ...during]) {
    const key = portKey(row.chargerId, row.connectorId);
    const list = histories.get(key) ?? [];
    list.push({ status: row.status, at: row.reportedAt });
    histories.set(key, list);
  }
  return histories;
}
