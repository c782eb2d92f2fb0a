import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agreement_versions')
    .addColumn('agreement_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('effective_from', 'timestamptz', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('content', 'jsonb', (c) => c.notNull())
    .addColumn('removed_at', 'timestamptz')
    .addPrimaryKeyConstraint('agreement_versions_pk', ['agreement_id', 'version'])
    .execute();

  // Which agreement covers a charger now: rewritten from the latest versions at each sync.
  await db.schema
    .createTable('agreement_chargers')
    .addColumn('charger_id', 'text', (c) => c.primaryKey())
    .addColumn('agreement_id', 'text', (c) => c.notNull())
    .addColumn('site_id', 'text', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('incidents').addColumn('agreement_id', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('agreement_version', 'integer').execute();
  await db.schema.createIndex('incidents_agreement_idx').on('incidents').columns(['agreement_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('incidents_agreement_idx').execute();
  await db.schema.alterTable('incidents').dropColumn('agreement_version').execute();
  await db.schema.alterTable('incidents').dropColumn('agreement_id').execute();
  await db.schema.dropTable('agreement_chargers').execute();
  await db.schema.dropTable('agreement_versions').execute();
}
