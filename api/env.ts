import type { Client } from '@temporalio/client';
import type { SlaTargets } from '../contracts/sla.js';
import type { Db } from '../db/connect.js';
import type { TokenScope } from '../db/schema.js';
import type { Actor } from '../contracts/incident.js';
import type { Logger } from '../platform/log.js';

/** What every route can reach. */
export interface ApiDeps {
  db: Db;
  temporal: Client;
  /**
   * Temporal without the SDK's retries, for the health check: it reports the state now, and SDK
   * retries it left running after giving up would outlive it (and throw once the connection closes).
   */
  temporalProbe: Client;
  log: Logger;
  /** The workflow task queue. */
  taskQueue: string;
  /** How long a charger gets to answer a command. */
  commandTimeoutMs: number;
  /** Where uploaded photos are kept. */
  attachmentsDir: string;
  /** The largest JSON request body read (photo uploads: the photo limit). */
  bodyLimitBytes: number;
  /** SLA targets of incidents on chargers no agreement covers. */
  incidentSla: SlaTargets;
}

export interface ApiEnv {
  /** Who is calling, and what their token lets them see (null: everything their role may see). */
  Variables: { actor: Actor; scope: TokenScope | null };
}
