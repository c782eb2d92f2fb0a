import type { Db } from '../db/connect.js';

/** What workflows need to know about a charger before they talk to it. */
export function createChargerActivities(db: Db) {
  return {
    /** Whether the charger is connected, and which gateway process holds its socket. */
    async locateCharger({ chargerId }: { chargerId: string }): Promise<{ connected: boolean; gatewayNode: string | null }> {
      const row = await db.selectFrom('chargers').select(['connected', 'gatewayNode']).where('id', '=', chargerId).executeTakeFirst();
      return { connected: row?.connected ?? false, gatewayNode: row?.connected ? row.gatewayNode : null };
    },
  };
}

export type ChargerActivities = ReturnType<typeof createChargerActivities>;
