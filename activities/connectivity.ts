import { assessConnectorStatus } from '../contracts/faults.js';
import type { Db } from '../db/connect.js';
import type { FaultEvent } from '../ocpp/events.js';

export interface OfflineFinding {
  chargerId: string;
  offlineSince: string;
  watchRunId: string;
}

/** Activities of the connectivity watch. */
export function createConnectivityActivities(db: Db) {
  return {
    /**
     * Queues an `offline` fault for the whole charger (connector 0) on the outbox, like any fault the
     * charger reports, so it reaches the incident in order with the charger's other events. The
     * event id is fixed by the watch run and the disconnect time: a retried activity's second row is
     * ignored by the incident.
     */
    async raiseOfflineFault(finding: OfflineFinding): Promise<void> {
      const event: FaultEvent = {
        kind: 'fault',
        chargerId: finding.chargerId,
        connectorId: 0,
        priority: assessConnectorStatus(0, 'Faulted', null)!.priority,
        event: 'offline',
        fault: {
          eventId: `offline:${finding.watchRunId}:${finding.offlineSince}`,
          status: 'Offline',
          errorCode: 'Offline',
          vendorErrorCode: null,
          info: `no connection since ${finding.offlineSince}`,
          at: finding.offlineSince,
        },
      };
      await db.insertInto('outbox').values({ chargerId: finding.chargerId, kind: event.kind, payload: JSON.stringify(event) }).execute();
    },
  };
}

export type ConnectivityActivities = ReturnType<typeof createConnectivityActivities>;
