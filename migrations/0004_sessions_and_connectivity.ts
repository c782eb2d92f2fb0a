import { sql, type Kysely } from 'kysely';

/**
 * Sessions and meter samples (settlement and verification read them), the normalised charger event
 * log, charger commissioning and connection generations (reconnect races), and the outbox relay lease.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('chargers')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
    .execute();
  await db.schema.alterTable('chargers').addColumn('connection_id', 'text').execute();

  // OCPP 1.6 transaction ids are integers the central system hands out; 2.0.1 chargers choose their own.
  await sql`create sequence ocpp16_transaction_ids`.execute(db);

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('charger_id', 'text', (c) => c.notNull().references('chargers.id').onDelete('cascade'))
    .addColumn('connector_id', 'integer', (c) => c.notNull())
    .addColumn('transaction_id', 'text', (c) => c.notNull())
    // 1.6 only: what makes a retransmitted StartTransaction the same session.
    .addColumn('start_key', 'text')
    .addColumn('id_tag', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('meter_start_wh', 'numeric')
    .addColumn('meter_last_wh', 'numeric')
    .addColumn('meter_stop_wh', 'numeric')
    // Register readings are absolute, so energy is a function of them: no message can add to it twice.
    .addColumn('energy_wh', 'numeric', (c) => c.generatedAlwaysAs(sql`greatest(0, coalesce(coalesce(meter_stop_wh, meter_last_wh) - meter_start_wh, 0))`).stored())
    .addColumn('stop_reason', 'text')
    .addColumn('last_seq_no', 'integer')
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('sessions_transaction_uq', ['charger_id', 'transaction_id'])
    .addUniqueConstraint('sessions_start_key_uq', ['charger_id', 'start_key'])
    .execute();
  await db.schema.createIndex('sessions_started_idx').on('sessions').columns(['charger_id', 'started_at']).execute();

  await db.schema
    .createTable('meter_samples')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('charger_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'integer', (c) => c.notNull())
    .addColumn('transaction_id', 'text')
    .addColumn('sampled_at', 'timestamptz', (c) => c.notNull())
    .addColumn('measurand', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('location', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('unit', 'text')
    .addColumn('context', 'text')
    .addColumn('value', 'numeric', (c) => c.notNull())
    .execute();
  // A retransmitted MeterValues writes nothing twice.
  await db.schema
    .createIndex('meter_samples_uq')
    .on('meter_samples')
    .columns(['charger_id', 'connector_id', 'sampled_at', 'measurand', 'phase', 'location'])
    .unique()
    .execute();

  await db.schema
    .createTable('charger_events')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('charger_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'integer')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('charger_events_charger_idx').on('charger_events').columns(['charger_id', 'id']).execute();

  // Several processes may run a relay; the lease holder alone delivers, so each charger's events stay in order.
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['leases', 'charger_events', 'meter_samples', 'sessions']) await db.schema.dropTable(table).execute();
  await sql`drop sequence ocpp16_transaction_ids`.execute(db);
  await db.schema.alterTable('chargers').dropColumn('connection_id').execute();
  await db.schema.alterTable('chargers').dropColumn('state').execute();
}
