import type { Kysely } from 'kysely';

/**
 * Delivered outbox events are deleted once past OUTBOX_RETENTION. The relay finds them by delivery
 * time; without this index each pass would read the whole outbox, which at 10,000 chargers holds
 * millions of events a week.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('outbox_delivered_at_idx').on('outbox').column('delivered_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_delivered_at_idx').execute();
}
