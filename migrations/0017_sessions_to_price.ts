import { sql, type Kysely } from 'kysely';

/**
 * The pricer finds the sessions it has still to price without reading every session: `priced_at`
 * is set in the transaction that issues a session's CDR, and a partial index holds only the ended
 * sessions without one. A status log read per session and connector uses an index of its own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('priced_at', 'timestamptz').execute();
  await sql`update sessions s set priced_at = c.issued_at from cdrs c where c.session_id = s.id and c.revision = 1 and not c.credit`.execute(db);
  await db.schema
    .createIndex('sessions_to_price_idx')
    .on('sessions')
    .columns(['ended_at', 'id'])
    .where(sql.ref('status'), '=', 'ended')
    .where(sql.ref('priced_at'), 'is', null)
    .execute();
  await db.schema.createIndex('status_log_connector_time_idx').on('status_log').columns(['charger_id', 'connector_id', 'reported_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('status_log_connector_time_idx').execute();
  await db.schema.dropIndex('sessions_to_price_idx').execute();
  await db.schema.alterTable('sessions').dropColumn('priced_at').execute();
}
