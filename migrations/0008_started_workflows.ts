import { sql, type Kysely } from 'kysely';

/**
 * Workflows Concierge started for a charger (incidents, connectivity watches), by workflow id. The
 * outbox relay tells a workflow about a status change or a reconnect only when one may be running:
 * most such events have nobody to tell, and asking Temporal each time cost a failed signal per
 * event (two for every reconnect, twenty thousand after a restart of a gateway with 10,000
 * chargers). `generation` counts starts, so a row is dropped only if nobody started the workflow
 * again since the signal that found it gone.
 *
 * Workflows already running when this migration runs have no row yet: every charger and connector
 * Concierge knows gets one. Each that runs nothing costs one signal, then its row is dropped.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('started_workflows')
    .addColumn('workflow_id', 'text', (c) => c.primaryKey())
    .addColumn('generation', 'bigint', (c) => c.notNull().defaultTo(1))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The ids as contracts/connectivity.ts and contracts/incident.ts spelled them when this migration was written.
  await sql`
    insert into started_workflows (workflow_id)
    select 'connectivity:' || id from chargers
    union select 'incident:' || id || ':0' from chargers
    union select 'incident:' || charger_id || ':' || connector_id from connector_status
    union select 'incident:' || charger_id || ':' || connector_id from incidents
    on conflict do nothing
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('started_workflows').execute();
}
