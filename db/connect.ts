import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationProvider } from '../migrations/index.js';
import { PGliteThreadDialect } from './pglite-thread.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export type DatabaseTarget = { url: string } | { pgliteDir: string | null };

/** Opens PostgreSQL when a URL is given, otherwise PGlite in a directory (or in memory for null). */
export function openDatabase(target: DatabaseTarget): Db {
  const dialect = 'url' in target ? postgresDialect(target.url) : pgliteDialect(target.pgliteDir);
  // Column names only: what a jsonb column holds comes back as it was written (OCPI's snake_case
  // tariffs and CDRs among it), not renamed.
  return new Kysely<Database>({ dialect, plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })] });
}

/**
 * Runs several reads on one snapshot of the database (a read-only repeatable-read transaction), so
 * that a write committed between them cannot show half of itself: a row beside the details of a
 * later revision.
 */
export function readConsistently<T>(db: Db, read: (snapshot: Db) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(read);
}

export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}

function postgresDialect(url: string) {
  // bigint ids come back as strings from pg; PGlite is configured to match (pglite-worker.mjs).
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection PostgreSQL closes (restart, failover, admin terminate) is dropped from the
  // pool and replaced on next use; without a listener the pool's 'error' event would end the process.
  pool.on('error', (error) => console.warn(`database connection lost (it will be replaced): ${error.message}`));
  return new PostgresDialect({ pool });
}

function pgliteDialect(dir: string | null) {
  if (dir) mkdirSync(path.dirname(dir), { recursive: true });
  return new PGliteThreadDialect(dir);
}
