import { siteOf, wholeSiteDown } from '../contracts/agreement-terms.js';
import { absenceCountsFrom, countsAsOffline } from '../contracts/connectivity.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { agreementForCharger } from '../agreements/store.js';
import type { FaultEvent } from '../ocpp/events.js';

export interface OfflineFinding {
  chargerId: string;
  offlineSince: string;
  watchRunId: string;
  /** The watch's grace period; absent from watches started before gateway-caused disconnects were told apart (raise at once). */
  graceMs?: number;
}

export interface OfflineOutcome {
  /** Not raised yet, since Concierge's own gateway disconnected the charger: ask again then. Null when done (raised, or the charger is back). */
  notBefore: string | null;
}

const FACTS = ['connected', 'disconnectedByGateway', 'gatewayBackAt', 'lastSeenAt'] as const;

/** Activities of the connectivity watch. */
export function createConnectivityActivities(db: Db) {
  /** The charger's site, when the agreement's whole-site-down rule applies to it now. */
  async function siteDown(chargerId: string, graceMs: number) {
    const inForce = await agreementForCharger(db, chargerId);
    const site = inForce && siteOf(inForce.agreement, chargerId);
    if (!inForce || !site) return null;
    const ids = site.chargers.map((c) => c.id);
    const rows = await db.selectFrom('chargers').select(FACTS).where('id', 'in', ids).execute();
    // Chargers Concierge itself disconnected count only once they have had the grace to come back.
    const now = new Date();
    const offline = rows.filter((r) => countsAsOffline(r, now, graceMs)).length;
    return wholeSiteDown(inForce.agreement, site.id, offline, rows.length) ? { id: site.id, offline, chargers: rows.length } : null;
  }

  return {
    /**
     * Queues an `offline` fault for the whole charger (connector 0) on the outbox, like any fault the
     * charger reports, so it reaches the incident in order with the charger's other events. The
     * event id is fixed by the watch run and the disconnect time: a retried activity's second row is
     * ignored by the incident. When the agreement's whole-site-down rule applies, the fault goes to
     * the site's incident instead: one incident for a dark site, not one per charger. A charger that
     * Concierge's own gateway disconnected is not raised before it has had the grace period to
     * reconnect once a gateway was back (contracts/connectivity.ts): the answer says when to ask again.
     */
    async raiseOfflineFault(finding: OfflineFinding): Promise<OfflineOutcome> {
      if (finding.graceMs !== undefined) {
        const charger = await db.selectFrom('chargers').select(FACTS).where('id', '=', finding.chargerId).executeTakeFirst();
        const from = charger && absenceCountsFrom(charger, finding.graceMs);
        if (charger?.disconnectedByGateway && from && from.getTime() + finding.graceMs > Date.now()) {
          return { notBefore: new Date(from.getTime() + finding.graceMs).toISOString() };
        }
      }
      const site = await siteDown(finding.chargerId, finding.graceMs ?? 0);
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
      return { notBefore: null };
    },
  };
}

export type ConnectivityActivities = ReturnType<typeof createConnectivityActivities>;
