import type { Client } from '@temporalio/client';
import type { Db } from '../db/connect.js';
import type { Actor } from '../contracts/incident.js';
import type { Logger } from '../runtime/log.js';

/** What every route can reach. */
export interface ApiDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  /** The workflow task queue. */
  taskQueue: string;
  /** How long a charger gets to answer a command. */
  commandTimeoutMs: number;
}

export interface ApiEnv {
  Variables: { actor: Actor };
}
