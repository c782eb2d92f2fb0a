import { sql, type Kysely } from 'kysely';

/**
 * One row per meter value (the samples a charger took at one moment on one connector), its samples
 * as jsonb, instead of one row per sample: a MeterValues message usually carries several samples,
 * and every row and index entry costs the gateway's database. Keyed by what the charger sends
 * (charger, connector, time), so a retransmission adds nothing.
 *
 * `meter_samples` becomes a view with the columns the table had, each sample's value scaled by its
 * `exponent` (2.0.1's unit multiplier), so readers see one normalised row per sample as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('meter_values')
    .addColumn('charger_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'integer', (c) => c.notNull())
    .addColumn('sampled_at', 'timestamptz', (c) => c.notNull())
    .addColumn('transaction_id', 'text')
    .addColumn('samples', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('meter_values_pkey', ['charger_id', 'connector_id', 'sampled_at'])
    .execute();
  // Stored values were already scaled: they move without an exponent.
  await sql`
    insert into meter_values (charger_id, connector_id, sampled_at, transaction_id, samples)
    select charger_id, connector_id, sampled_at, max(transaction_id),
      jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
        'measurand', measurand, 'phase', nullif(phase, ''), 'location', nullif(location, ''),
        'unit', unit, 'context', context, 'value', value::text)))
    from meter_samples
    group by charger_id, connector_id, sampled_at
  `.execute(db);
  await db.schema.dropTable('meter_samples').execute();
  await sql`
    create view meter_samples as
    select v.charger_id, v.connector_id, v.transaction_id, v.sampled_at,
      s->>'measurand' as measurand, coalesce(s->>'phase', '') as phase, coalesce(s->>'location', '') as location,
      s->>'unit' as unit, s->>'context' as context,
      case when s ? 'exponent' then (s->>'value')::numeric * power(10::numeric, (s->>'exponent')::int) else (s->>'value')::numeric end as value
    from meter_values as v cross join lateral jsonb_array_elements(v.samples) as s
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create table meter_samples_restored as select * from meter_samples`.execute(db);
  await sql`drop view meter_samples`.execute(db);
  await db.schema
    .createTable('meter_samples')
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
    .addPrimaryKeyConstraint('meter_samples_pkey', ['charger_id', 'connector_id', 'sampled_at', 'measurand', 'phase', 'location'])
    .execute();
  await sql`insert into meter_samples select * from meter_samples_restored on conflict do nothing`.execute(db);
  await db.schema.dropTable('meter_samples_restored').execute();
  await db.schema.dropTable('meter_values').execute();
}
