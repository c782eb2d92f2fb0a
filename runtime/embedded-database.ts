import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { isAlive } from './temporal-dev-server.js';

/**
 * PGlite is a database of one process: a second one opening the same folder (the CLI while the
 * server runs) may corrupt it. The server notes its pid beside the data; a command that would
 * open the folder refuses while that process lives. PostgreSQL (DATABASE_URL) needs none of this.
 */
const pidFile = (config: Config) => ('pgliteDir' in config.database && config.database.pgliteDir ? path.join(config.database.pgliteDir, '..', 'concierge.pid') : null);

/** Notes this process as the one serving the embedded database; the returned function un-notes it. */
export function claimEmbeddedDatabase(config: Config): () => Promise<void> {
  const file = pidFile(config);
  if (!file) return async () => undefined;
  mkdirSync(path.dirname(file), { recursive: true }); // a first start: DATA_DIR may not exist yet
  writeFileSync(file, `${process.pid}\n`);
  return async () => {
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
  };
}

/** Throws, saying what to do, when another live process serves the embedded database. */
export function refuseWhileServed(config: Config, instead: string): void {
  const file = pidFile(config);
  if (!file || !existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return;
  throw new Error(`Concierge (pid ${pid}) is running on ${path.dirname(file)} with its embedded database, which only one process may open: ${instead}, or stop it first`);
}
