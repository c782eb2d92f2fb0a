import { sql } from 'kysely';
import type { ChargerState } from '../db/schema.js';
import type { Db } from '../db/connect.js';
import type { BootInfo } from './context.js';
import { createGroupCommit } from './group-commit.js';

/**
 * Records what chargers say about themselves when they boot (vendor, model, serial number,
 * firmware, boot time), group-committed: after a gateway restart thousands boot within seconds,
 * and each answer needs the charger's state (Accepted for an active charger, Pending otherwise).
 */
export function createBootRecorder(db: Db) {
  const commit = createGroupCommit(async (boots: Array<BootInfo & { chargerId: string }>): Promise<Array<ChargerState | null>> => {
    // A charger that booted twice in one batch keeps what it said last.
    const latest = [...new Map(boots.map((b) => [b.chargerId, b])).values()];
    const { rows } = await sql<{ id: string; state: ChargerState }>`
      update chargers as c
      set vendor = v.vendor, model = v.model, serial_number = v."serialNumber", firmware_version = v."firmwareVersion", booted_at = now()
      from json_to_recordset(${JSON.stringify(latest)}::json) as v("chargerId" text, vendor text, model text, "serialNumber" text, "firmwareVersion" text)
      where c.id = v."chargerId"
      returning c.id, c.state
    `.execute(db);
    const states = new Map(rows.map((row) => [row.id, row.state]));
    return boots.map((b) => states.get(b.chargerId) ?? null);
  });
  return {
    /** Resolves with the charger's state once its boot is recorded; null for a charger no longer registered. */
    record: (chargerId: string, boot: BootInfo) => commit.add({ ...boot, chargerId }),
  };
}

export type BootRecorder = ReturnType<typeof createBootRecorder>;
