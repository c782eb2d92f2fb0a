import { sql, type Kysely } from 'kysely';

/**
 * What an agreement's workflow did, by a key unique per deed: each notice-deadline reminder sent
 * (`notice-reminder:<deadline>`), each month's settlement it started (`settlement:<yyyy-mm>`). A
 * retried activity finds its deed recorded and does not do it twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agreement_events')
    .addColumn('agreement_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('detail', 'jsonb')
    .addPrimaryKeyConstraint('agreement_events_pk', ['agreement_id', 'key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agreement_events').execute();
}
