import { sql, type Kysely } from 'kysely';

/**
 * - incidents.degraded_since / degraded_cause: the database refused an incident's data for good and
 *   its projection is saved with unstorable characters replaced (operators are alerted: API, metric).
 * - incident_faults.received_at: when Concierge received a charger's fault (the charger's own time
 *   is `at`), so a fault delivered late is still known to predate the fix.
 * - api_tokens.bootstrap: the admin token from CONCIERGE_ADMIN_TOKEN or the first start is known by
 *   this mark, not by its holder's name, so rotating it never touches a person's token.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('incidents').addColumn('degraded_since', 'timestamptz').addColumn('degraded_cause', 'text').execute();
  await db.schema.createIndex('incidents_degraded_idx').on('incidents').column('degraded_since').where(sql.ref('degraded_since'), 'is not', null).execute();
  await db.schema.alterTable('incident_faults').addColumn('received_at', 'timestamptz').execute();
  await db.schema.alterTable('api_tokens').addColumn('bootstrap', 'boolean', (col) => col.notNull().defaultTo(false)).execute();
  // Until now the bootstrap token was the one named "admin" with the account-manager role.
  await sql`update api_tokens set bootstrap = true where name = 'admin' and role = 'account-manager'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_tokens').dropColumn('bootstrap').execute();
  await db.schema.alterTable('incident_faults').dropColumn('received_at').execute();
  await db.schema.dropIndex('incidents_degraded_idx').execute();
  await db.schema.alterTable('incidents').dropColumn('degraded_since').dropColumn('degraded_cause').execute();
}
