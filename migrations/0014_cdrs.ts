import { sql, type Kysely } from 'kysely';

/**
 * Charge detail records: every ended session on a covered charger priced once (contracts/cdr.ts),
 * the OCPI 2.2.1 CDR kept whole in `document`, its money in columns for settlement to add up in SQL.
 * A CDR is never changed or deleted (a trigger refuses it): a correction is a credit CDR that
 * references the old one (`credit`, `credit_reference_id`, negative amounts), then a new revision.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const money = ['total_cost', 'list_price', 'fixed_cost', 'energy_cost', 'time_cost', 'parking_cost'];
  let table = db.schema
    .createTable('cdrs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'bigint', (c) => c.notNull().references('sessions.id'))
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('credit', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('credit_reference_id', 'text', (c) => c.references('cdrs.id'))
    .addColumn('charger_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'integer', (c) => c.notNull())
    .addColumn('agreement_id', 'text', (c) => c.notNull())
    .addColumn('agreement_version', 'integer', (c) => c.notNull())
    .addColumn('site_id', 'text', (c) => c.notNull())
    .addColumn('tariff_id', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('voucher_code', 'text')
    .addColumn('start_date_time', 'timestamptz', (c) => c.notNull())
    .addColumn('end_date_time', 'timestamptz', (c) => c.notNull())
    .addColumn('total_energy', 'numeric', (c) => c.notNull())
    .addColumn('total_time', 'numeric', (c) => c.notNull())
    .addColumn('total_parking_time', 'numeric', (c) => c.notNull());
  for (const column of money) table = table.addColumn(`${column}_excl_vat`, 'numeric', (c) => c.notNull()).addColumn(`${column}_incl_vat`, 'numeric', (c) => c.notNull());
  await table
    .addColumn('document', 'jsonb', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('cdrs_session_revision_uq', ['session_id', 'revision', 'credit'])
    .execute();
  await db.schema.createIndex('cdrs_agreement_end_idx').on('cdrs').columns(['agreement_id', 'end_date_time']).execute();
  await sql`
    create function cdrs_are_never_changed() returns trigger language plpgsql as $$
    begin
      raise exception 'a CDR is never changed or deleted (%): issue a credit CDR that references it', old.id using errcode = '23000';
    end $$
  `.execute(db);
  await sql`create trigger cdrs_never_changed before update or delete on cdrs for each row execute function cdrs_are_never_changed()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cdrs').execute();
  await sql`drop function cdrs_are_never_changed()`.execute(db);
}
