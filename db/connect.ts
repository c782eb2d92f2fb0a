import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { CamelCasePlugin, Kysely, PGliteDialect, PostgresDialect, type DatabaseConnection, type Driver } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationProvider } from '../migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export type DatabaseTarget = { url: string } | { pgliteDir: string | null };

/** Opens PostgreSQL when a URL is given, otherwise PGlite in a directory (or in memory for null). */
export function openDatabase(target: DatabaseTarget): Db {
  const dialect = 'url' in target ? postgresDialect(target.url) : pgliteDialect(target.pgliteDir);
  return new Kysely<Database>({ dialect, plugins: [new CamelCasePlugin()] });
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
  // bigint ids come back as strings from pg; PGlite is configured to match.
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection PostgreSQL closes (restart, failover, admin terminate) is dropped from the
  // pool and replaced on next use; without a listener the pool's 'error' event would end the process.
  pool.on('error', (error) => console.warn(`database connection lost (it will be replaced): ${error.message}`));
  return new PostgresDialect({ pool });
}

function pgliteDialect(dir: string | null) {
  if (dir) mkdirSync(path.dirname(dir), { recursive: true });
  // Options go in the one-argument form: PGlite ignores them when the first argument is undefined.
  const pglite = new PGlite({ ...(dir ? { dataDir: dir } : {}), parsers: { [types.INT8]: (value: string) => value } });
  return new SerialPGliteDialect({ pglite });
}

/**
 * PGlite is one connection. Kysely's PGlite driver hands that connection to every caller at once,
 * so a query issued while a transaction is open would run inside it. This dialect lends the
 * connection to one caller at a time, the way Kysely's SQLite driver does.
 */
class SerialPGliteDialect extends PGliteDialect {
  override createDriver(): Driver {
    return new SerialDriver(super.createDriver());
  }
}

class SerialDriver implements Driver {
  #queue: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(private readonly driver: Driver) {}

  init: Driver['init'] = (options) => this.driver.init(options);
  destroy = () => this.driver.destroy();
  beginTransaction: Driver['beginTransaction'] = (c, s) => this.driver.beginTransaction(c, s);
  commitTransaction: Driver['commitTransaction'] = (c) => this.driver.commitTransaction(c);
  rollbackTransaction: Driver['rollbackTransaction'] = (c) => this.driver.rollbackTransaction(c);
  savepoint: Driver['savepoint'] = (c, n, q) => this.driver.savepoint!(c, n, q);
  rollbackToSavepoint: Driver['rollbackToSavepoint'] = (c, n, q) => this.driver.rollbackToSavepoint!(c, n, q);
  releaseSavepoint: Driver['releaseSavepoint'] = (c, n, q) => this.driver.releaseSavepoint!(c, n, q);

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue;
    let done!: () => void;
    this.#queue = new Promise<void>((resolve) => (done = resolve));
    await previous;
    this.#release = done;
    try {
      return await this.driver.acquireConnection();
    } catch (error) {
      this.#release = undefined;
      done();
      throw error;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const done = this.#release;
    this.#release = undefined;
    try {
      await this.driver.releaseConnection(connection);
    } finally {
      done?.();
    }
  }
}
