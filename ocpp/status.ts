import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { FaultAssessment } from '../contracts/faults.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import type { ChargerSignalEvent, ConnectorStatusChanged, DeviceProblem, FaultEvent } from './events.js';
import { createGroupCommit } from './group-commit.js';

/** A status report as the handlers pass it on, with what it says about a fault. */
export interface StatusReport {
  event: ConnectorStatusChanged;
  fault: FaultAssessment | null;
}

/**
 * Keeps status reports in batches (group commit, ./group-commit.ts): every StatusNotification
 * handler waits for the transaction that stores its report, so the charger's answer still means
 * "stored", but the reports of many chargers share one transaction.
 */
export function createStatusWriter(db: Db) {
  const commit = createGroupCommit((reports: StatusReport[]) => recordConnectorStatuses(db, reports));
  return {
    /** Resolves once the report, the connector's latest status and the incident's outbox event are committed. */
    write: (event: ConnectorStatusChanged, fault: FaultAssessment | null): Promise<void> => commit.add({ event, fault }),
  };
}

export type StatusWriter = ReturnType<typeof createStatusWriter>;

/**
 * Keeps status reports: each appended to the status log, each connector's latest status updated,
 * and an outbox event per report for the connector's incident — a fault opens or feeds it, any
 * other status tells a running one how the connector is doing — all in one transaction, with one
 * statement per table whatever the number of reports. The log ids are drawn first, in order: the
 * outbox events name them (`status:<id>`), which makes a redelivery harmless.
 */
export async function recordConnectorStatuses(db: Db, reports: StatusReport[]): Promise<void> {
  if (reports.length === 0) return;
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string }>`select nextval(pg_get_serial_sequence('status_log', 'id'))::text as id from generate_series(1, ${reports.length})`.execute(trx);
    const ids = rows.map((row) => BigInt(row.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const logged = reports.map((report, i) => ({ ...report, id: String(ids[i]) }));

    // With the ids drawn above: the log's id column is an identity column, which only takes a given value when told so.
    await sql`
      insert into status_log (id, charger_id, connector_id, status, error_code, vendor_error_code, info, reported_at, protocol, payload)
      overriding system value
      select id, "chargerId", "connectorId", status, "errorCode", "vendorErrorCode", info, at, protocol, payload
      from json_to_recordset(${JSON.stringify(logged.map(({ id, event }) => ({ id, ...event })))}::json)
        as r(id bigint, "chargerId" text, "connectorId" int, status text, "errorCode" text, "vendorErrorCode" text, info text, at timestamptz, protocol text, payload jsonb)
    `.execute(trx);

    await trx
      .insertInto('connectorStatus')
      .values(latestPerConnector(reports.map((r) => r.event)).map(({ chargerId, connectorId, status, errorCode, vendorErrorCode, info, at }) => ({ chargerId, connectorId, status, errorCode, vendorErrorCode, info, at })))
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

    const events = logged.map(({ id, event, fault }) => outboxEventOf(`status:${id}`, event, fault));
    await trx
      .insertInto('outbox')
      .values(events.map((e) => ({ chargerId: e.chargerId, kind: e.kind, payload: JSON.stringify(e) })))
      .execute();
  });
}

/**
 * One report per connector, the latest by its time (of equal times, the one received last): a
 * statement may not update a row twice, and an older report must not overwrite a newer one.
 */
function latestPerConnector(events: ConnectorStatusChanged[]): ConnectorStatusChanged[] {
  const latest = new Map<string, ConnectorStatusChanged>();
  for (const event of events) {
    const key = `${event.chargerId}\u0000${event.connectorId}`;
    const seen = latest.get(key);
    if (!seen || Date.parse(seen.at) <= Date.parse(event.at)) latest.set(key, event);
  }
  return [...latest.values()];
}

/** A fault opens or feeds the connector's incident; any other status tells a running one how the connector is doing. */
function outboxEventOf(eventId: string, event: ConnectorStatusChanged, fault: FaultAssessment | null): FaultEvent | ChargerSignalEvent {
  if (!fault) return { kind: 'status', chargerId: event.chargerId, connectorId: event.connectorId, signal: { eventId, kind: 'status', status: event.status, at: event.at } };
  return {
    kind: 'fault',
    chargerId: event.chargerId,
    connectorId: event.connectorId,
    priority: fault.priority,
    fault: { eventId, status: event.status, errorCode: event.errorCode ?? event.status, vendorErrorCode: event.vendorErrorCode, info: event.info, at: event.at },
  };
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
