import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { EnergyReading } from './events.js';
import type { MeterSample } from './meter.js';

interface Pending {
  chargerId: string;
  samples: MeterSample[];
  /** The register reading of an active session the samples belong to. */
  session: { transactionId: string; register: EnergyReading } | null;
  done: { resolve(): void; reject(error: unknown): void };
}

/** Rows per INSERT: 10 parameters a row stays well under PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 2_000;

/** `value × 10^exponent` as an exact numeric in SQL. */
export const scaled = (value: string, exponent: number) => sql<string>`(${value}::numeric * power(10::numeric, ${exponent}::int))`;

/**
 * Writes meter samples in batches (group commit): every MeterValues handler waits for the
 * transaction that holds its samples, so the charger's answer still means "stored", but a busy
 * gateway commits hundreds of messages at once instead of one transaction each.
 */
export function createMeterWriter(db: Db) {
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;

  async function flush(batch: Pending[]) {
    await db.transaction().execute(async (trx) => {
      const rows = batch.flatMap((p) =>
        p.samples.map((s) => ({
          chargerId: p.chargerId,
          connectorId: s.connectorId,
          transactionId: s.transactionId,
          sampledAt: s.sampledAt,
          measurand: s.measurand,
          phase: s.phase,
          location: s.location,
          unit: s.unit,
          context: s.context,
          value: scaled(s.value, s.exponent),
        })),
      );
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        // A retransmitted MeterValues hits the unique index and adds nothing.
        await trx
          .insertInto('meterSamples')
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      // One statement moves every session of the batch to its highest reading.
      const readings = batch.flatMap(({ chargerId, session }) => (session ? [sql`(${chargerId}, ${session.transactionId}, ${scaled(session.register.value, session.register.exponent)})`] : []));
      if (readings.length > 0) {
        await sql`
          update sessions as s
          set meter_last_wh = greatest(s.meter_last_wh, v.reading), meter_start_wh = coalesce(s.meter_start_wh, v.reading), updated_at = now()
          from (
            select charger_id, transaction_id, max(reading) as reading
            from (values ${sql.join(readings)}) as r(charger_id, transaction_id, reading)
            group by charger_id, transaction_id
          ) as v
          where s.charger_id = v.charger_id and s.transaction_id = v.transaction_id and s.status = 'active'
        `.execute(trx);
      }
    });
  }

  function drain() {
    const batch = queue;
    queue = [];
    flushing = flush(batch).then(
      () => batch.forEach((p) => p.done.resolve()),
      (error: unknown) => batch.forEach((p) => p.done.reject(error)),
    );
    void flushing.then(() => {
      flushing = null;
      if (queue.length > 0) drain();
    });
  }

  return {
    /** Resolves once the samples are committed. */
    write(chargerId: string, samples: MeterSample[], session: Pending['session'] = null): Promise<void> {
      if (samples.length === 0 && !session) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ chargerId, samples, session, done: { resolve, reject } });
        // Collect what arrives in this turn of the event loop; later arrivals wait for the flush in progress.
        if (!flushing && queue.length === 1) setImmediate(() => !flushing && queue.length > 0 && drain());
      });
    },
  };
}

export type MeterWriter = ReturnType<typeof createMeterWriter>;
