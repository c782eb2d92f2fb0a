import { sql, type Kysely } from 'kysely';

/**
 * People's e-mail addresses (on their tokens, optional) and the one-time sign-in links an account
 * manager or dispatcher sends them: the hash of the link's secret, whose access it opens, who sent
 * it, until when it works, and when it was used (once).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_tokens').addColumn('email', 'text').execute();
  await db.schema
    .createTable('console_sign_in_links')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('token_id', 'text', (c) => c.notNull().references('api_tokens.id').onDelete('cascade'))
    .addColumn('sent_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('console_sign_in_links').execute();
  await db.schema.alterTable('api_tokens').dropColumn('email').execute();
}
