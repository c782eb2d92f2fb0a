import { sql, type RawBuilder } from 'kysely';
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

/** A batch this size goes at once; a smaller one waits out FLUSH_GAP_MS after the previous batch. */
const FULL_BATCH = 250;
const FLUSH_GAP_MS = 10;

/** `value × 10^exponent` as an exact numeric in SQL, from parameters or from columns. */
export const scaled = (value: string | RawBuilder<unknown>, exponent: number | RawBuilder<unknown>) => sql<string>`(${value}::numeric * power(10::numeric, ${exponent}::int))`;
/** For rows that carry `value` and `exponent` columns. */
const scaledColumn = scaled(sql.ref('value'), sql.ref('exponent'));

/**
 * Writes meter samples in batches (group commit): every MeterValues handler waits for the
 * transaction that holds its samples, so the charger's answer still means "stored", but a busy
 * gateway commits hundreds of messages at once instead of one transaction each.
 */
export function createMeterWriter(db: Db) {
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;

  async function flush(batch: Pending[]) {
    const samples = batch.flatMap((p) => p.samples.map((s) => ({ chargerId: p.chargerId, ...s })));
    const readings = batch.flatMap(({ chargerId, session }) => (session ? [{ chargerId, transactionId: session.transactionId, ...session.register }] : []));
    // One statement, so one round trip and atomic without BEGIN/COMMIT: on PGlite each statement
    // costs a few hundred microseconds of the gateway's own thread however small it is. The rows
    // travel as JSON parameters PostgreSQL unpacks; binding ten parameters per sample cost three
    // times the CPU. A retransmitted MeterValues hits the unique index and adds nothing; every
    // session of the batch moves to its highest reading.
    await sql`
      with stored as (
        insert into meter_samples (charger_id, connector_id, transaction_id, sampled_at, measurand, phase, location, unit, context, value)
        select "chargerId", "connectorId", "transactionId", "sampledAt", measurand, phase, location, unit, context, ${scaledColumn}
        from json_to_recordset(${JSON.stringify(samples)}::json) as s(
          "chargerId" text, "connectorId" int, "transactionId" text, "sampledAt" timestamptz, measurand text,
          phase text, location text, unit text, context text, value text, exponent int)
        on conflict do nothing
      )
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

  /**
   * When the next batch goes: at once after a quiet spell (a lone message is not held back), at
   * once when a full batch waits, otherwise no sooner than FLUSH_GAP_MS after the last one ended.
   * Flushing again the moment the last statement returned wrote batches of one or two messages
   * under a steady load, and on PGlite every statement costs a few hundred microseconds of the
   * database thread, which then had no time left for anything else.
   */
  let lastFlushEnded = 0;
  let timer: NodeJS.Timeout | null = null;
  let immediate = false;

  function schedule() {
    if (flushing || immediate || queue.length === 0) return;
    const wait = queue.length >= FULL_BATCH ? 0 : lastFlushEnded + FLUSH_GAP_MS - Date.now();
    if (wait > 0) {
      timer ??= setTimeout(drain, wait);
      return;
    }
    // Collect what arrives in this turn of the event loop.
    immediate = true;
    setImmediate(() => {
      immediate = false;
      drain();
    });
  }

  function drain() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (flushing || queue.length === 0) return;
    const batch = queue;
    queue = [];
    flushing = flush(batch).then(
      () => batch.forEach((p) => p.done.resolve()),
      (error: unknown) => batch.forEach((p) => p.done.reject(error)),
    );
    void flushing.then(() => {
      flushing = null;
      lastFlushEnded = Date.now();
      schedule();
    });
  }

  return {
    /** Resolves once the samples are committed. */
    write(chargerId: string, samples: MeterSample[], session: Pending['session'] = null): Promise<void> {
      if (samples.length === 0 && !session) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ chargerId, samples, session, done: { resolve, reject } });
        schedule();
      });
    },
  };
}

export type MeterWriter = ReturnType<typeof createMeterWriter>;
