import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateToLatest, openDatabase, type Db, type DatabaseTarget } from '../../db/connect.js';

export interface TestDatabase {
  kind: 'pglite' | 'postgres';
  target: DatabaseTarget;
  /** Drops what the database holds (a PostgreSQL database is dropped). */
  dispose(): Promise<void>;
}

/** The databases every database-touching suite runs against: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const databaseKinds: Array<TestDatabase['kind']> = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

/** A fresh, empty database of the given kind; PGlite in `dir` (or in memory). */
export async function createTestDatabase(kind: TestDatabase['kind'], dir: string | null = null): Promise<TestDatabase> {
  if (kind === 'pglite') return { kind, target: { pgliteDir: dir }, dispose: async () => undefined };
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const name = `concierge_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    target: { url: url.toString() },
    async dispose() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A migrated database, opened. */
export async function openTestDatabase(kind: TestDatabase['kind']): Promise<{ db: Db; dispose(): Promise<void> }> {
  const database = await createTestDatabase(kind);
  const db = openDatabase(database.target);
  await migrateToLatest(db);
  return {
    db,
    async dispose() {
      await db.destroy();
      await database.dispose();
    },
  };
}
