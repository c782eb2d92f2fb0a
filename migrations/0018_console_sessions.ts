import { sql, type Kysely } from 'kysely';

/**
 * People signed in to the console. A session is opened with an API token (and later by a one-time
 * e-mailed link) and acts with that token's role and scope; revoking the token ends its sessions.
 * The cookie holds a random secret; only its hash is stored. Each session has its own CSRF token.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('console_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('token_id', 'text', (c) => c.notNull().references('api_tokens.id').onDelete('cascade'))
    .addColumn('csrf', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('console_sessions_token_idx').on('console_sessions').column('token_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('console_sessions').execute();
}
