import { sql } from 'kysely';
import { DateTime } from 'luxon';
import type { Agreement } from '../contracts/agreement.js';
import { money } from '../contracts/money.js';
import type { ChargerService, ChargerUsage, MonthFigures, PortUptimeFigure } from '../contracts/settlement.js';
import type { Db } from '../db/connect.js';
import { portsUptimeFromHistory, type PortUptime } from './uptime-report.js';

/** A month of an agreement, in its time zone (its first site's): [start, end). */
export function monthPeriod(agreement: Agreement, month: string): { start: Date; end: Date } {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Error(`expected a month as yyyy-mm, found "${month}"`);
  const start = DateTime.fromISO(`${month}-01T00:00:00`, { zone: agreement.sites[0]!.timeZone });
  return { start: start.toJSDate(), end: start.plus({ months: 1 }).toJSDate() };
}

export interface MonthEvidence {
  /** Each port's uptime with its traced outages. */
  ports: (PortUptime & { chargerId: string; connectorId: number })[];
  /** The incidents whose clocks breached, by clock. */
  breachedIncidents: { response: string[]; fix: string[] };
}

/**
 * What a month's statement is computed from, read from the database: the CDRs that ended in the
 * month (summed per charger in SQL), how long each charger was covered by the agreement in the month
 * (from its versions: a charger added by a version counts from when it took effect), each port's
 * uptime, and the incidents of the month whose response or fix clock breached. Only CDRs of the
 * agreement count, whatever charger they were on.
 */
export async function monthFigures(db: Db, agreement: Agreement, month: string, now = new Date()): Promise<{ figures: MonthFigures; evidence: MonthEvidence }> {
  const period = monthPeriod(agreement, month);
  if (period.start >= now) throw new Error(`${month} has not begun in ${agreement.sites[0]!.timeZone}: nothing to settle`);

  const usageRows = await db
    .selectFrom('cdrs')
    .select((eb) => [
      'siteId',
      'chargerId',
      // Credit CDRs carry negated amounts and count −1 session: a corrected session counts once.
      sql<string>`sum(case when credit then -1 else 1 end)`.as('sessions'),
      eb.fn.sum<string>(sql`case when credit then -total_energy else total_energy end`).as('energyKwh'),
      eb.fn.sum<string>('totalCostExclVat').as('paidExclVat'),
      eb.fn.sum<string>('totalCostInclVat').as('paidInclVat'),
      eb.fn.sum<string>('listPriceInclVat').as('listInclVat'),
    ])
    .where('agreementId', '=', agreement.id)
    .where('endDateTime', '>=', period.start)
    .where('endDateTime', '<', period.end)
    .groupBy(['siteId', 'chargerId'])
    .execute();
  const usage: ChargerUsage[] = usageRows.map((r) => ({
    siteId: r.siteId,
    chargerId: r.chargerId,
    sessions: Number(r.sessions),
    energyKwh: money(r.energyKwh ?? '0'),
    paidExclVat: money(r.paidExclVat ?? '0'),
    paidInclVat: money(r.paidInclVat ?? '0'),
    listInclVat: money(r.listInclVat ?? '0'),
  }));

  // Within the agreement's term: from its first day, until the end of its last (in its zone).
  const zone = agreement.sites[0]!.timeZone;
  const termStart = DateTime.fromISO(agreement.term.start, { zone }).toJSDate();
  const termEnd = agreement.term.end ? DateTime.fromISO(agreement.term.end, { zone }).plus({ days: 1 }).toJSDate() : period.end;
  const covered = { start: termStart > period.start ? termStart : period.start, end: termEnd < period.end ? termEnd : period.end };
  const chargers = covered.end > covered.start ? await coverage(db, agreement.id, covered) : [];
  const listed = new Map<string, Agreement['sites'][number]['chargers'][number]>(agreement.sites.flatMap((s) => s.chargers.map((c) => [c.id, c] as const)));
  const measuredUntil = period.end < now ? period.end : now;
  // Ports of the chargers the agreement lists now (one it no longer lists has no terms to measure by).
  const portsToMeasure = chargers.filter((c) => listed.has(c.chargerId)).flatMap((c) => Array.from({ length: listed.get(c.chargerId)!.connectors }, (_, i) => ({ chargerId: c.chargerId, connectorId: i + 1 })));
  const measured = await portsUptimeFromHistory(db, agreement, portsToMeasure, { start: period.start, end: measuredUntil }, now);
  const ports: MonthEvidence['ports'] = portsToMeasure.map((port, i) => ({ ...port, ...measured[i]! }));
  const uptime: PortUptimeFigure[] = ports.map((p) => ({ chargerId: p.chargerId, connectorId: p.connectorId, uptimePercent: p.uptimePercent }));

  const breached = await db
    .selectFrom('incidents')
    .select(['id', 'responseEverBreached', 'fixEverBreached'])
    .where('agreementId', '=', agreement.id)
    .where('openedAt', '>=', period.start)
    .where('openedAt', '<', period.end)
    .where((eb) => eb.or([eb('responseEverBreached', '=', true), eb('fixEverBreached', '=', true)]))
    .orderBy('openedAt')
    .orderBy('id')
    .execute();
  const breachedIncidents = { response: breached.filter((b) => b.responseEverBreached).map((b) => b.id), fix: breached.filter((b) => b.fixEverBreached).map((b) => b.id) };

  return {
    figures: { agreement, period, chargers, usage, uptime, breaches: { response: breachedIncidents.response.length, fix: breachedIncidents.fix.length } },
    evidence: { ports, breachedIncidents },
  };
}

/**
 * How long the agreement covered each charger within the period, from its versions: each version
 * lists its chargers from when it took effect until the next version (or its removal).
 */
async function coverage(db: Db, agreementId: string, period: { start: Date; end: Date }): Promise<ChargerService[]> {
  const versions = await db.selectFrom('agreementVersions').select(['version', 'effectiveFrom', 'removedAt', 'content']).where('agreementId', '=', agreementId).orderBy('version').execute();
  const served = new Map<string, { siteId: string; ms: number }>();
  versions.forEach((v, i) => {
    // The first version covers the month from its start, whenever the file was first synced.
    const from = i === 0 ? period.start : v.effectiveFrom;
    const until = versions[i + 1]?.effectiveFrom ?? v.removedAt ?? period.end;
    const start = Math.max(from.getTime(), period.start.getTime());
    const end = Math.min(until.getTime(), period.end.getTime(), v.removedAt?.getTime() ?? Infinity);
    if (end <= start) return;
    for (const site of (v.content as Agreement).sites) {
      for (const charger of site.chargers) {
        const entry = served.get(charger.id) ?? { siteId: site.id, ms: 0 };
        served.set(charger.id, { siteId: site.id, ms: entry.ms + (end - start) });
      }
    }
  });
  return [...served.entries()].map(([chargerId, s]) => ({ chargerId, siteId: s.siteId, servedMs: s.ms })).sort((a, b) => a.chargerId.localeCompare(b.chargerId));
}
