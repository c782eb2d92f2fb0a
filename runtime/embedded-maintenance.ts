import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Logger } from '../platform/log.js';

/**
 * PostgreSQL's autovacuum, for the embedded database, which has none: PGlite runs PostgreSQL in
 * single-user mode, without background workers. Without it the planner never learns how large a
 * table grew (a fresh table stays "small", so the incident list scanned every step of every
 * incident instead of its index), and the dead rows of updated and deleted rows (every projection
 * save, every relayed outbox event) are never reclaimed.
 *
 * Every `intervalMs` it reads the statistics PGlite keeps (`pg_stat_user_tables`) and analyzes or
 * vacuums the tables past PostgreSQL's own default thresholds: analyze after 50 + 10 % of the
 * table's rows changed, vacuum after 50 + 20 % are dead. A table at a time: the embedded database
 * runs one statement at a time, so each pass holds the others up only briefly.
 */
export function startEmbeddedMaintenance(db: Db, log: Logger, intervalMs = 30_000): { stop(): Promise<void> } {
  let stopped = false;
  let pass: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pass = pass
      .then(async () => {
        if (!stopped) await maintain(db);
      })
      .catch((error: unknown) => log.warn({ err: error }, 'embedded database maintenance failed; it is tried again'));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pass;
    },
  };
}

/** One pass: what PostgreSQL's autovacuum would do now, table by table. Returns what it did. */
export async function maintain(db: Db): Promise<Array<{ table: string; did: 'analyze' | 'vacuum analyze' }>> {
  // The counters of this session's own statements reach the statistics at most once a second: now.
  await sql`select pg_stat_force_next_flush()`.execute(db);
  const { rows } = await sql<{ relname: string; nLiveTup: string; nDeadTup: string; nModSinceAnalyze: string }>`
    select relname, n_live_tup, n_dead_tup, n_mod_since_analyze from pg_stat_user_tables where schemaname = current_schema()
  `.execute(db);
  const done: Array<{ table: string; did: 'analyze' | 'vacuum analyze' }> = [];
  for (const row of rows) {
    const live = Number(row.nLiveTup);
    const vacuum = Number(row.nDeadTup) > 50 + 0.2 * live;
    const analyze = Number(row.nModSinceAnalyze) > 50 + 0.1 * live;
    if (!vacuum && !analyze) continue;
    const table = sql.table(row.relname);
    await (vacuum ? sql`vacuum (analyze) ${table}` : sql`analyze ${table}`).execute(db);
    done.push({ table: row.relname, did: vacuum ? 'vacuum analyze' : 'analyze' });
  }
  return done;
}
