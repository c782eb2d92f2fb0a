import { sql, type Kysely } from 'kysely';

/**
 * The incident list's order (newest first, then id), so a page of the newest open incidents reads
 * its rows from an index instead of sorting every incident; and the tasks of an incident, which
 * the list and the incident page read by incident (the table had no index on it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('incidents_newest_idx').on('incidents').expression(sql`opened_at desc, id`).execute();
  await db.schema.createIndex('tasks_incident_idx').on('tasks').column('incident_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('tasks_incident_idx').execute();
  await db.schema.dropIndex('incidents_newest_idx').execute();
}
