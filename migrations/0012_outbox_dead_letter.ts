import { sql, type Kysely } from 'kysely';

/**
 * outbox.dead_lettered_at: an event Temporal refuses for good (an invalid argument, data too large)
 * is set aside instead of being retried for ever, so its charger's later events go on. The relay's
 * pending indexes leave set-aside events out.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('dead_lettered_at', 'timestamptz').execute();
  await db.schema.dropIndex('outbox_pending_idx').execute();
  await db.schema.dropIndex('outbox_pending_by_charger_idx').execute();
  const pending = sql<boolean>`delivered_at is null and dead_lettered_at is null`;
  await db.schema.createIndex('outbox_pending_idx').on('outbox').column('id').where(pending).execute();
  await db.schema.createIndex('outbox_pending_by_charger_idx').on('outbox').columns(['charger_id', 'id']).where(pending).execute();
  await db.schema.createIndex('outbox_dead_lettered_idx').on('outbox').column('dead_lettered_at').where(sql.ref('dead_lettered_at'), 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_dead_lettered_idx').execute();
  await db.schema.dropIndex('outbox_pending_by_charger_idx').execute();
  await db.schema.dropIndex('outbox_pending_idx').execute();
  await db.schema.createIndex('outbox_pending_idx').on('outbox').column('id').where(sql.ref('delivered_at'), 'is', null).execute();
  await db.schema.createIndex('outbox_pending_by_charger_idx').on('outbox').columns(['charger_id', 'id']).where(sql.ref('delivered_at'), 'is', null).execute();
  await db.schema.alterTable('outbox').dropColumn('dead_lettered_at').execute();
}
