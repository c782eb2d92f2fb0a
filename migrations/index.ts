import type { Migration, MigrationProvider } from 'kysely/migration';
import * as skeleton from './0001_skeleton.js';

/** Every migration, in order. Files are never edited once they have landed; add a new one. */
const migrations: Record<string, Migration> = {
  '0001_skeleton': skeleton,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
