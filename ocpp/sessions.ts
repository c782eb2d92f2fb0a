import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { ChargerSignalEvent, EnergyReading, SessionEvent } from './events.js';
import { scaled } from './meter-writer.js';

const readingWh = (register: EnergyReading | null) => (register ? scaled(register.value, register.exponent) : null);

/**
 * A 1.6 StartTransaction: the central system hands out the transaction id. A retransmitted start
 * (same connector, idTag, time and meter start) gets the id it got the first time.
 */
export async function startSession16(db: Db, chargerId: string, start: { connectorId: number; idTag: string; at: string; meterStartWh: number }): Promise<number> {
  const startKey = `${start.connectorId}|${start.idTag}|${start.at}|${start.meterStartWh}`;
  const row = await db
    .insertInto('sessions')
    .values({
      chargerId,
      connectorId: start.connectorId,
      transactionId: sql<string>`nextval('ocpp16_transaction_ids')::text`,
      startKey,
      idTag: start.idTag,
      status: 'active',
      startedAt: start.at,
      meterStartWh: String(start.meterStartWh),
      meterLastWh: String(start.meterStartWh),
      protocol: 'ocpp1.6',
    })
    .onConflict((oc) => oc.columns(['chargerId', 'startKey']).doUpdateSet((eb) => ({ startKey: eb.ref('excluded.startKey') })))
    .returning('transactionId')
    .executeTakeFirstOrThrow();
  return Number(row.transactionId);
}

/**
 * Any session event of either protocol, idempotently: readings only ever move the start down and
 * the last reading up, an ended session stays ended, so a repeated or late event changes nothing.
 * A session first heard of through a later event (the charger started it offline) is created then.
 */
export async function recordSessionEvent(db: Db, chargerId: string, protocol: string, event: SessionEvent): Promise<boolean> {
  const reading = readingWh(event.register);
  const ended = event.kind === 'ended';
  return db.transaction().execute(async (trx) => {
    const session = await trx
      .insertInto('sessions')
      .values({
        chargerId,
        connectorId: event.connectorId,
        transactionId: event.transactionId,
        idTag: event.idTag,
        status: ended ? 'ended' : 'active',
        startedAt: event.at,
        endedAt: ended ? event.at : null,
        meterStartWh: reading,
        meterLastWh: reading,
        meterStopWh: ended ? reading : null,
        stopReason: event.stopReason,
        lastSeqNo: event.seqNo,
        protocol,
      })
      .onConflict((oc) =>
        oc.columns(['chargerId', 'transactionId']).doUpdateSet((eb) => ({
          idTag: eb.fn.coalesce('sessions.idTag', 'excluded.idTag'),
          startedAt: eb.fn('least', [eb.ref('sessions.startedAt'), eb.ref('excluded.startedAt')]),
          // An ended session stays ended.
          status: ended ? 'ended' : eb.ref('sessions.status'),
          endedAt: eb.fn.coalesce('sessions.endedAt', 'excluded.endedAt'),
          // The start reading is the lowest reading of a 'started' event, else the first one heard.
          meterStartWh:
            event.kind === 'started'
              ? eb.fn('least', [eb.ref('sessions.meterStartWh'), eb.ref('excluded.meterStartWh')])
              : eb.fn.coalesce('sessions.meterStartWh', 'excluded.meterStartWh'),
          meterLastWh: eb.fn('greatest', [eb.ref('sessions.meterLastWh'), eb.ref('excluded.meterLastWh')]),
          meterStopWh: eb.fn.coalesce('sessions.meterStopWh', 'excluded.meterStopWh'),
          stopReason: eb.fn.coalesce('sessions.stopReason', 'excluded.stopReason'),
          lastSeqNo: eb.fn('greatest', [eb.ref('sessions.lastSeqNo'), eb.ref('excluded.lastSeqNo')]),
          updatedAt: new Date(),
        })),
      )
      .returning(['id', 'energyWh'])
      .executeTakeFirstOrThrow();
    // A session that delivered energy tells the connector's incident (if one is verifying a fix) that charging works.
    if (!ended || Number(session.energyWh) <= 0) return false;
    const signal: ChargerSignalEvent = {
      kind: 'status',
      chargerId,
      connectorId: event.connectorId,
      signal: { eventId: `session:${session.id}`, kind: 'session-completed', status: 'SessionCompleted', at: event.at },
    };
    await trx.insertInto('outbox').values({ chargerId, kind: signal.kind, payload: JSON.stringify(signal) }).execute();
    return true;
  });
}
