import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import type { EnergyReading } from './events.js';
import { createGroupCommit } from './group-commit.js';
import type { MeterSample, MeterValue } from './meter.js';

/** The register reading of an active session, which moves the session's last reading. */
export interface SessionReading {
  chargerId: string;
  transactionId: string;
  register: EnergyReading;
}

/** What one MeterValues (or the meter data of a transaction message) brings. */
interface MeterWrite {
  values: MeterValue[];
  reading: SessionReading | null;
}

/** `value × 10^exponent` as an exact numeric in SQL, from parameters or from columns. */
export const scaled = (value: string | RawBuilder<unknown>, exponent: number | RawBuilder<unknown>) => sql<string>`(${value}::numeric * power(10::numeric, ${exponent}::int))`;
/** For rows that carry `value` and `exponent` columns. */
const scaledColumn = scaled(sql.ref('value'), sql.ref('exponent'));

const sameQuantity = (a: MeterSample, b: MeterSample) => a.measurand === b.measurand && a.phase === b.phase && a.location === b.location;

/**
 * One row per (charger, connector, time): a meter value sent twice in one batch, or split over two
 * messages, becomes one row with each quantity once. The statement could not update a row twice.
 */
function mergedByKey(values: MeterValue[]): MeterValue[] {
  const byKey = new Map<string, MeterValue>();
  for (const value of values) {
    const key = `${value.chargerId}\u0000${value.connectorId}\u0000${value.sampledAt}`;
    const earlier = byKey.get(key);
    if (!earlier) byKey.set(key, value);
    else byKey.set(key, { ...earlier, transactionId: earlier.transactionId ?? value.transactionId, samples: [...earlier.samples, ...value.samples.filter((s) => !earlier.samples.some((e) => sameQuantity(e, s)))] });
  }
  return byKey.size === values.length ? values : [...byKey.values()];
}

/** The samples of a conflicting row's new meter value that the stored one lacks (same measurand, phase and location). */
const addedSamples = sql<unknown>`coalesce((
  select jsonb_agg(n) from jsonb_array_elements(excluded.samples) as n
  where not exists (
    select from jsonb_array_elements(m.samples) as o
    where o->>'measurand' = n->>'measurand' and o->>'phase' is not distinct from n->>'phase' and o->>'location' is not distinct from n->>'location')
), '[]'::jsonb)`;

/** `meter_values` rows from the JSON array of MeterValue the statement is given. */
const fromJson = (values: string) => sql`
  insert into meter_values as m (charger_id, connector_id, sampled_at, transaction_id, samples)
  select v->>'chargerId', (v->>'connectorId')::int, (v->>'sampledAt')::timestamptz, v->>'transactionId', v->'samples'
  from jsonb_array_elements(${values}::jsonb) as v`;

/**
 * Writes meter values in batches (group commit, ./group-commit.ts): every MeterValues handler
 * waits for the statements that store its samples, so the charger's answer still means "stored".
 */
export function createMeterWriter(db: Db) {
  /**
   * One statement for the usual batch; a second only when a meter value was already stored, a
   * third only when the batch moves sessions. On PGlite every statement costs a few hundred
   * microseconds of the database thread, and planning the merge costs as much as a small insert.
   * The rows travel as one JSON parameter PostgreSQL unpacks (binding parameters per value cost
   * three times the CPU). Each statement stands alone and may be repeated: a crash between them
   * leaves the chargers unanswered, they send again, and the repeat adds only what is missing.
   */
  async function flush(batch: MeterWrite[]) {
    const values = mergedByKey(batch.flatMap((p) => p.values));
    if (values.length > 0) {
      const json = JSON.stringify(values);
      const { numAffectedRows } = await sql`${fromJson(json)} on conflict do nothing`.execute(db);
      // A retransmitted meter value adds nothing; one that brings a quantity the stored one lacks adds it.
      if (Number(numAffectedRows ?? 0) < values.length) {
        await sql`
          ${fromJson(json)}
          on conflict (charger_id, connector_id, sampled_at) do update
          set samples = m.samples || ${addedSamples}, transaction_id = coalesce(m.transaction_id, excluded.transaction_id)
          where ${addedSamples} <> '[]'::jsonb or (m.transaction_id is null and excluded.transaction_id is not null)
        `.execute(db);
      }
    }
    const readings = batch.flatMap((p) => (p.reading ? [{ chargerId: p.reading.chargerId, transactionId: p.reading.transactionId, ...p.reading.register }] : []));
    if (readings.length > 0) {
      // Every session of the batch moves to its highest reading.
      await sql`
        update sessions as s
        set meter_last_wh = greatest(s.meter_last_wh, v.reading), meter_start_wh = coalesce(s.meter_start_wh, v.reading), updated_at = now()
        from (
          select "chargerId", "transactionId", max(${scaledColumn}) as reading
          from json_to_recordset(${JSON.stringify(readings)}::json) as r("chargerId" text, "transactionId" text, value text, exponent int)
          group by "chargerId", "transactionId"
        ) as v
        where s.charger_id = v."chargerId" and s.transaction_id = v."transactionId" and s.status = 'active'
      `.execute(db);
    }
  }

  const commit = createGroupCommit(flush);

  return {
    /** Resolves once the meter values (and the session's reading) are committed. */
    write(values: MeterValue[], reading: SessionReading | null = null): Promise<void> {
      if (values.length === 0 && !reading) return Promise.resolve();
      return commit.add({ values, reading });
    },
  };
}

export type MeterWriter = ReturnType<typeof createMeterWriter>;
