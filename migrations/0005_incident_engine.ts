import type { Kysely } from 'kysely';

/**
 * The incident engine's projection: the incident's full state (clocks, cycles, assignee, root cause)
 * beside the columns queries filter on; structured step data; field-crew tasks; escalation
 * notifications sent; and API token scopes (the agreements a technician serves, a venue's sites).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('incidents')
    .addColumn('site_id', 'text')
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('fault'))
    .addColumn('assignee_id', 'text')
    .addColumn('cycle', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('response_ever_breached', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('fix_ever_breached', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('state', 'jsonb')
    .execute();
  await db.schema.alterTable('incidents').alterColumn('respond_by', (c) => c.dropNotNull()).execute();
  await db.schema.alterTable('incidents').alterColumn('fix_by', (c) => c.dropNotNull()).execute();
  await db.schema.createIndex('incidents_scope_idx').on('incidents').columns(['agreement_id', 'site_id']).execute();

  await db.schema.alterTable('incident_steps').addColumn('actor_role', 'text').addColumn('data', 'jsonb').execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('agreement_id', 'text')
    .addColumn('site_id', 'text')
    .addColumn('charger_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'integer', (c) => c.notNull())
    .addColumn('assignee_id', 'text')
    .addColumn('assignee_name', 'text')
    .addColumn('due_at', 'timestamptz')
    .addColumn('detail', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('tasks_status_idx').on('tasks').columns(['status', 'due_at']).execute();
  await db.schema.createIndex('tasks_assignee_idx').on('tasks').columns(['assignee_id', 'status']).execute();

  await db.schema
    .createTable('notifications')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('recipients', 'jsonb', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_incident_idx').on('notifications').columns(['incident_id', 'sent_at']).execute();

  await db.schema.alterTable('api_tokens').addColumn('scope', 'jsonb').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_tokens').dropColumn('scope').execute();
  await db.schema.dropTable('notifications').execute();
  await db.schema.dropTable('tasks').execute();
  await db.schema.alterTable('incident_steps').dropColumn('data').dropColumn('actor_role').execute();
  await db.schema.dropIndex('incidents_scope_idx').execute();
  await db.schema
    .alterTable('incidents')
    .dropColumn('state')
    .dropColumn('fix_ever_breached')
    .dropColumn('response_ever_breached')
    .dropColumn('cycle')
    .dropColumn('assignee_id')
    .dropColumn('source')
    .dropColumn('site_id')
    .execute();
}
