import type { Db } from '../db/connect.js';
import type { FaultAssessment } from '../contracts/faults.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import type { ChargerSignalEvent, ConnectorStatusChanged, DeviceProblem, FaultEvent } from './events.js';

/**
 * Keeps a status report: appended to the status log, the connector's latest status updated, and an
 * outbox event for the connector's incident — a fault opens or feeds it, any other status tells a
 * running one how the connector is doing — all in one transaction.
 */
export async function recordConnectorStatus(db: Db, event: ConnectorStatusChanged, fault: FaultAssessment | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const { id } = await trx
      .insertInto('statusLog')
      .values({
        chargerId: event.chargerId,
        connectorId: event.connectorId,
        status: event.status,
        errorCode: event.errorCode,
        vendorErrorCode: event.vendorErrorCode,
        info: event.info,
        reportedAt: event.at,
        protocol: event.protocol,
        payload: JSON.stringify(event.payload),
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    await trx
      .insertInto('connectorStatus')
      .values({
        chargerId: event.chargerId,
        connectorId: event.connectorId,
        status: event.status,
        errorCode: event.errorCode,
        vendorErrorCode: event.vendorErrorCode,
        info: event.info,
        at: event.at,
      })
      .onConflict((oc) =>
        oc
          .columns(['chargerId', 'connectorId'])
          .doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            errorCode: eb.ref('excluded.errorCode'),
            vendorErrorCode: eb.ref('excluded.vendorErrorCode'),
            info: eb.ref('excluded.info'),
            at: eb.ref('excluded.at'),
          }))
          // A late, out-of-order report must not overwrite a newer status.
          .where('connectorStatus.at', '<=', (eb) => eb.ref('excluded.at')),
      )
      .execute();

    const outboxEvent: FaultEvent | ChargerSignalEvent = fault
      ? {
          kind: 'fault',
          chargerId: event.chargerId,
          connectorId: event.connectorId,
          priority: fault.priority,
          fault: {
            eventId: `status:${id}`,
            status: event.status,
            errorCode: event.errorCode ?? event.status,
            vendorErrorCode: event.vendorErrorCode,
            info: event.info,
            at: event.at,
          },
        }
      : { kind: 'status', chargerId: event.chargerId, connectorId: event.connectorId, signal: { eventId: `status:${id}`, kind: 'status', status: event.status, at: event.at } };
    await trx.insertInto('outbox').values({ chargerId: event.chargerId, kind: outboxEvent.kind, payload: JSON.stringify(outboxEvent) }).execute();
  });
}

/**
 * Keeps a problem a 2.0.1 charger reported through NotifyEvent: always in the charger event log;
 * a raised (not cleared) problem also queues a fault for the connector's incident, in the same
 * transaction. Returns whether an outbox event was written.
 */
export async function recordDeviceProblem(db: Db, chargerId: string, problem: DeviceProblem, payload: unknown): Promise<boolean> {
  const fault = problem.cleared ? null : assessConnectorStatus(problem.connectorId, 'Faulted', problem.errorCode);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('chargerEvents')
      .values({ chargerId, connectorId: problem.connectorId, kind: 'device-event', at: problem.at, data: JSON.stringify({ ...problem, payload }) })
      .execute();
    if (!fault) return;
    const outboxEvent: FaultEvent = {
      kind: 'fault',
      chargerId,
      connectorId: problem.connectorId,
      priority: fault.priority,
      techCode: problem.mrecCode ?? problem.errorCode,
      fault: {
        // The charger's event id and time: a retransmitted NotifyEvent is the same fault.
        eventId: `notify:${problem.eventId}:${problem.at}`,
        status: 'Faulted',
        errorCode: problem.errorCode,
        vendorErrorCode: problem.mrecCode,
        info: problem.info,
        at: problem.at,
      },
    };
    await trx.insertInto('outbox').values({ chargerId, kind: outboxEvent.kind, payload: JSON.stringify(outboxEvent) }).execute();
  });
  return fault !== null;
}
