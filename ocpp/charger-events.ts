import type { Db } from '../db/connect.js';
import type { ChargerEventKind } from './events.js';

/** Appends a normalised event to the charger event log. */
export async function recordChargerEvent(db: Db, chargerId: string, event: { kind: ChargerEventKind; connectorId?: number | null; at: string; data: unknown }): Promise<void> {
  await db
    .insertInto('chargerEvents')
    .values({ chargerId, connectorId: event.connectorId ?? null, kind: event.kind, at: event.at, data: JSON.stringify(event.data) })
    .execute();
}
