import { sql, type Kysely } from 'kysely';

/**
 * The gateway's hot path. Meter samples are keyed by what a charger sends (charger, connector,
 * time, measurand, phase, location) and nothing else: the surrogate id cost a sequence call and a
 * second index entry per sample and nothing read it. The outbox relay reads each charger's oldest
 * pending event; an index in that order serves it without sorting the whole backlog.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table meter_samples drop column id, add constraint meter_samples_pkey primary key using index meter_samples_uq`.execute(db);
  await db.schema
    .createIndex('outbox_pending_by_charger_idx')
    .on('outbox')
    .columns(['charger_id', 'id'])
    .where(sql.ref('delivered_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_pending_by_charger_idx').execute();
  await sql`alter table meter_samples drop constraint meter_samples_pkey`.execute(db);
  await db.schema
    .createIndex('meter_samples_uq')
    .on('meter_samples')
    .columns(['charger_id', 'connector_id', 'sampled_at', 'measurand', 'phase', 'location'])
    .unique()
    .execute();
  await sql`alter table meter_samples add column id bigint generated always as identity primary key`.execute(db);
}
