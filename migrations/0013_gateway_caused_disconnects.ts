import { type Kysely } from 'kysely';

/**
 * A charger disconnected by Concierge itself (its gateway stopping, restarting or crashing) is not
 * offline of its own doing: `disconnected_by_gateway` says so, and `gateway_back_at` when a
 * gateway was back for it. Its absence counts toward the offline grace and the whole-site-down rule
 * only from then (activities/connectivity.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('chargers')
    .addColumn('disconnected_by_gateway', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('gateway_back_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('chargers').dropColumn('gateway_back_at').dropColumn('disconnected_by_gateway').execute();
}
