import { sql } from 'kysely';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { chargerIds } from '../simulator/index.js';
import { loadConfig } from '../runtime/config.js';
import { startConcierge, type RunningConcierge } from '../runtime/concierge.js';
import { createLogger } from '../platform/log.js';
import { hashPassword } from '../platform/secrets.js';
import { freePort } from '../testkit/ports.js';
import { cpuMs, loopDelaySinceLastCall, mainThreadBusyMs, measuredHeap, profileRequest, serveParent, tellParent, threadCpuMs, type Pipeline, type ServerReply, type ServerRequest } from './ipc.js';

/**
 * Concierge as `concierge start` runs it — Temporal dev server (unless TEMPORAL_ADDRESS is set),
 * database, worker, API and gateway in this one process — with the benchmark's chargers
 * registered straight into the database first.
 */
export interface ConciergeServerSetup {
  chargerIds: { prefix: string; first: number; count: number };
  password: string;
  /** PostgreSQL; unset = PGlite under a temporary DATA_DIR. */
  databaseUrl?: string;
  logLevel: string;
  /** DATA_DIR, made by the benchmark, which cleans it up (and stops a Temporal dev server left in it). */
  dataDir: string;
  /** CONCIERGE_ADMIN_TOKEN, for benchmarks that use the API (the fault storm registers its chargers and reads incidents). */
  adminToken?: string;
}

const setup = JSON.parse(process.argv[2] ?? '{}') as ConciergeServerSetup;
const { dataDir } = setup;
let app: RunningConcierge | null = null;

const stop = async () => {
  await app?.stop().catch((error: unknown) => console.error('concierge did not stop cleanly', error));
  app = null;
};
// The benchmark stops this process; a Ctrl-C meant for it must not kill the server before its Temporal dev server.
process.on('SIGINT', () => undefined);

serveParent<ServerRequest, ServerReply>(async (request) => {
  switch (request.type) {
    case 'heap':
      return { type: 'heap', ...(await measuredHeap()) };
    case 'stats': {
      const row = await app!.db.selectFrom('chargers').select(sql<string>`count(*)`.as('n')).where('connected', '=', true).executeTakeFirstOrThrow();
      return { type: 'stats', connected: Number(row.n), cpuMs: cpuMs(), mainThreadBusyMs: mainThreadBusyMs(), mainThreadCpuMs: threadCpuMs(), loopDelay: loopDelaySinceLastCall() };
    }
    case 'profile-start':
    case 'profile-end':
      return profileRequest(request);
    case 'pipeline':
      return { type: 'pipeline', ...(await pipeline(app!.db, request.sinceMs)) };
    case 'stop':
      await stop();
      tellParent({ type: 'stopped' });
      process.exit(0);
  }
}, stop);

try {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    GATEWAY_NODE: 'bench',
    LOG_LEVEL: setup.logLevel,
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    ...pick(process.env, ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_CLI']),
    ...(setup.databaseUrl ? { DATABASE_URL: setup.databaseUrl } : {}),
    ...(setup.adminToken ? { CONCIERGE_ADMIN_TOKEN: setup.adminToken } : {}),
  });

  // Registered before the start, one scrypt hash for all: hashing 10,000 passwords would take minutes.
  const db = openDatabase(config.database);
  await migrateToLatest(db);
  const { prefix, first, count } = setup.chargerIds;
  const ids = chargerIds(prefix, count, first);
  const passwordHash = ids.length > 0 ? await hashPassword(setup.password) : '';
  for (let offset = 0; offset < ids.length; offset += 1000) {
    await db
      .insertInto('chargers')
      .values(ids.slice(offset, offset + 1000).map((id) => ({ id, passwordHash })))
      .execute();
  }
  await db.destroy();

  app = await startConcierge(config, { log: createLogger(setup.logLevel) });
  const temporalAddress = config.temporal.address ?? `127.0.0.1:${config.temporal.devServer.port}`;
  tellParent({ type: 'ready', url: `ws://127.0.0.1:${app.port}/ocpp`, temporalAddress } satisfies ServerReply);
} catch (error) {
  tellParent({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ServerReply);
  await stop();
  process.exit(1);
}

/** The status reports' outbox events stored since `sinceMs`, and the incidents opened since (read-only). */
async function pipeline(db: Db, sinceMs: number): Promise<Pipeline> {
  const since = new Date(sinceMs);
  const events = await db
    .selectFrom('outbox')
    .select(['chargerId', 'kind', 'payload', 'createdAt', 'deliveredAt', 'attempts'])
    .where('kind', 'in', ['fault', 'status'])
    .where('createdAt', '>=', since)
    .execute();
  const incidents = await db.selectFrom('incidents').select(['chargerId', 'connectorId', 'workflowId', 'openedAt']).where('openedAt', '>=', since).execute();
  return {
    events: events.map((e) => {
      const payload = (typeof e.payload === 'string' ? JSON.parse(e.payload) : e.payload) as { connectorId: number };
      return { chargerId: e.chargerId, connectorId: payload.connectorId, kind: e.kind as 'fault' | 'status', storedAt: e.createdAt.getTime(), deliveredAt: e.deliveredAt?.getTime() ?? null, attempts: e.attempts };
    }),
    incidents: incidents.map((i) => ({ chargerId: i.chargerId, connectorId: i.connectorId, workflowId: i.workflowId, openedAt: i.openedAt.getTime() })),
  };
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}
