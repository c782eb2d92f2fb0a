import { siteOf, wholeSiteDown } from '../contracts/agreement-terms.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { agreementForCharger } from '../agreements/store.js';
import type { FaultEvent } from '../ocpp/events.js';

export interface OfflineFinding {
  chargerId: string;
  offlineSince: string;
  watchRunId: string;
}

/** Activities of the connectivity watch. */
export function createConnectivityActivities(db: Db) {
  /** The charger's site, when the agreement's whole-site-down rule applies to it now. */
  async function siteDown(chargerId: string) {
    const inForce = await agreementForCharger(db, chargerId);
    const site = inForce && siteOf(inForce.agreement, chargerId);
    if (!inForce || !site) return null;
    const ids = site.chargers.map((c) => c.id);
    const rows = await db.selectFrom('chargers').select('connected').where('id', 'in', ids).execute();
    const offline = rows.filter((r) => !r.connected).length;
    return wholeSiteDown(inForce.agreement, site.id, offline, rows.length) ? { id: site.id, offline, chargers: rows.length } : null;
  }

  return {
    /**
     * Queues an `offline` fault for the whole charger (connector 0) on the outbox, like any fault the
     * charger reports, so it reaches the incident in order with the charger's other events. The
     * event id is fixed by the watch run and the disconnect time: a retried activity's second row is
     * ignored by the incident. When the agreement's whole-site-down rule applies, the fault goes to
     * the site's incident instead: one incident for a dark site, not one per charger.
     */
    async raiseOfflineFault(finding: OfflineFinding): Promise<void> {
      const site = await siteDown(finding.chargerId);
      const event: FaultEvent = {
        kind: 'fault',
        chargerId: finding.chargerId,
        connectorId: 0,
        priority: assessConnectorStatus(0, 'Faulted', null)!.priority,
        event: 'offline',
        ...(site ? { site: { id: site.id } } : {}),
        fault: {
          eventId: `offline:${finding.watchRunId}:${finding.offlineSince}`,
          status: 'Offline',
          errorCode: 'Offline',
          vendorErrorCode: null,
          info: site ? `${finding.chargerId}: no connection since ${finding.offlineSince} (${site.offline} of ${site.chargers} chargers at the site offline)` : `no connection since ${finding.offlineSince}`,
          at: finding.offlineSince,
        },
      };
      // Only while the charger is still away: one that came back just now must not get an offline incident.
      await db
        .insertInto('outbox')
        .columns(['chargerId', 'kind', 'payload'])
        .expression((eb) =>
          eb
            .selectFrom('chargers')
            .select([eb.val(finding.chargerId).as('chargerId'), eb.val(event.kind).as('kind'), sql<string>`${JSON.stringify(event)}::jsonb`.as('payload')])
            .where('id', '=', finding.chargerId)
            .where('connected', '=', false),
        )
        .execute();
    },
  };
}

export type ConnectivityActivities = ReturnType<typeof createConnectivityActivities>;
