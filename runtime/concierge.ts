import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createChargerCommandActivities } from '../activities/charger-commands.js';
import { createActivities } from '../activities/index.js';
import { createApi } from '../api/app.js';
import { ensureAdminToken } from '../api/auth.js';
import { createConsole } from '../console/app.js';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { startEmbeddedMaintenance } from './embedded-maintenance.js';
import { gatewayTaskQueue } from '../ocpp/commands.js';
import { createGateway } from '../ocpp/gateway.js';
import { startOutboxRelay } from '../workflow-clients/outbox-relay.js';
import { startCdrPricer } from '../agreements/cdrs.js';
import { followAgreements } from '../workflow-clients/agreements.js';
import { syncAgreements } from '../agreements/store.js';
import { formatProblems, loadAgreements } from '../agreements/load.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from '../platform/log.js';
import { createMailer } from '../platform/mailer.js';
import { claimEmbeddedDatabase, refuseWhileServed } from './embedded-database.js';
import { startTemporalDevServer } from './temporal-dev-server.js';
import { bundleWorkflows } from './workflow-bundle.js';

export interface StartOptions {
  log?: Logger;
  /** A prebuilt workflow bundle (tests build one per run); otherwise the workflows are bundled once here. */
  workflowBundle?: { code: string } | { codePath: string };
  /** Called if the worker stops on its own with an error (the process should then stop). */
  onWorkerFailure?: (error: unknown) => void;
  /**
   * When the gateway records chargers connecting and disconnecting (their offline periods): the
   * system clock, unless a simulated month supplies its own. Everything else keeps real time.
   */
  clock?: () => Date;
}

export interface RunningConcierge {
  url: string;
  port: number;
  temporalUiUrl: string | null;
  /** Set only when this start generated the first admin token: show it once. */
  generatedAdminToken: string | null;
  db: Db;
  stop(): Promise<void>;
}

/**
 * One process: Temporal dev server (unless TEMPORAL_ADDRESS is set), database and migrations,
 * then its roles — the workflow worker, the HTTP API, the OCPP gateway (on the same port, with a
 * worker on its own task queue for commands) — and the outbox relay. Stops in reverse order.
 */
export async function startConcierge(config: Config, options: StartOptions = {}): Promise<RunningConcierge> {
  const log = options.log ?? createLogger(config.logLevel);
  const cleanups: Array<() => Promise<unknown>> = [];
  /** Runs every cleanup even if one fails, then reports the failures. */
  const stop = async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        errors.push(error);
      });
    }
    if (errors.length > 0) throw new AggregateError(errors, 'Concierge did not stop cleanly');
  };

  routeTemporalLogs(log);
  try {
    const { roles } = config;
    let address = config.temporal.address;
    let temporalUiUrl: string | null = null;
    if (!address) {
      const devServer = await startTemporalDevServer({ ...config.temporal.devServer, namespace: config.temporal.namespace, log });
      cleanups.push(devServer.stop);
      address = devServer.address;
      temporalUiUrl = devServer.uiUrl;
    }

    refuseWhileServed(config, 'use that one');
    cleanups.push(claimEmbeddedDatabase(config)); // released after the database closes
    const db = openDatabase(config.database);
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);
    if ('pgliteDir' in config.database) {
      // The embedded database has no autovacuum of its own.
      const maintenance = startEmbeddedMaintenance(db, log);
      cleanups.push(maintenance.stop);
    }
    const generatedAdminToken = await ensureAdminToken(db, config.adminToken);

    // An invalid agreement stops the start before anything changes: a wrong SLA must not run.
    const { agreements, problems } = await loadAgreements(config.agreementsDir);
    if (problems.length > 0) throw new Error(`invalid agreements (run concierge contracts check):\n${formatProblems(problems)}`);
    const synced = await syncAgreements(db, agreements);
    log.info({ ...synced, inForce: agreements.map((a) => a.id) }, 'agreements synced');

    const connection = await Connection.connect({ address });
    cleanups.push(() => connection.close());
    const temporal = new Client({ connection, namespace: config.temporal.namespace });

    const workerConnection = await NativeConnection.connect({ address });
    cleanups.push(() => workerConnection.close());
    const runWorker = async (worker: Worker) => {
      const running = worker.run();
      running.catch((error: unknown) => (options.onWorkerFailure ?? ((e: unknown) => log.fatal({ err: e }, 'a Temporal worker failed')))(error));
      cleanups.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      });
    };

    // A connection without the SDK's retry interceptor, for callers that retry on their own terms
    // (the outbox relay, with its own backoff) or must not retry (the health check): SDK retries
    // still pending when the connection closes would throw from a timer.
    const noRetryConnection = await Connection.connect({ address, interceptors: [] });
    cleanups.push(() => noRetryConnection.close());
    const noRetryClient = new Client({ connection: noRetryConnection, namespace: config.temporal.namespace });

    // Every process relays the outbox; a lease in the database lets one deliver at a time.
    const relay = startOutboxRelay({ db, temporal: noRetryClient, processName: config.gatewayNode, taskQueue: config.temporal.taskQueue, incidentSla: config.incidentSla, offlineGraceMs: config.offlineGraceMs, retentionMs: config.outboxRetentionMs, log });
    cleanups.push(relay.stop);

    const gateway = roles.has('gateway')
      ? createGateway({ db, log, node: config.gatewayNode, heartbeatIntervalSeconds: config.heartbeatIntervalSeconds, pingIntervalMs: config.pingIntervalMs, outboxChanged: relay.kick, clock: options.clock })
      : null;
    if (gateway) {
      await gateway.forgetPreviousConnections();
      // Before any worker runs a connectivity watch: the chargers this gateway disconnected count as away from now, not from its stop.
      await gateway.takingConnections();
      // Commands for the chargers this process holds arrive on its own task queue.
      await runWorker(
        await Worker.create({
          connection: workerConnection,
          namespace: config.temporal.namespace,
          taskQueue: gatewayTaskQueue(config.temporal.taskQueue, config.gatewayNode),
          activities: createChargerCommandActivities(db, gateway, config.commandTimeoutMs),
        }),
      );
    }

    // After the gateway has said which chargers it disconnected itself, so no connectivity watch
    // judges them by their disconnect time alone.
    if (roles.has('worker')) {
      const mailer = createMailer({ smtpUrl: config.smtpUrl, dataDir: config.dataDir, from: config.mailFrom, log, publicUrl: config.publicUrl ?? `http://localhost:${config.port}` });
      cleanups.push(async () => mailer.close());
      log.info(`notification mail goes to ${mailer.destination}`);
      await runWorker(
        await Worker.create({
          connection: workerConnection,
          namespace: config.temporal.namespace,
          taskQueue: config.temporal.taskQueue,
          workflowBundle: options.workflowBundle ?? (await bundleWorkflows(quietBundlerLogger)),
          activities: createActivities(db, { mailer }),
        }),
      );
      // Every ended session on a covered charger gets its CDR (agreements/cdrs.ts): two batches at
      // once on PostgreSQL, one on the embedded database (a single connection).
      const pricer = startCdrPricer({ db, log, concurrency: 'pgliteDir' in config.database ? 1 : 2 });
      cleanups.push(pricer.stop);
    }
    // Each agreement's lifecycle — settlement days, notice deadlines — runs as its workflow.
    await followAgreements(temporal, config.temporal.taskQueue, { inForce: agreements.map((a) => a.id), removed: synced.removed });

    const api = createApi({ db, temporal, temporalProbe: noRetryClient, log, taskQueue: config.temporal.taskQueue, commandTimeoutMs: config.commandTimeoutMs, incidentSla: config.incidentSla, bodyLimitBytes: config.bodyLimitBytes, attachmentsDir: path.join(config.dataDir, 'attachments') }, { withApi: roles.has('api') });
    let closeConsole = () => undefined as void;
    if (roles.has('api')) {
      // The console mails sign-in links itself: a person waits for it, no workflow owns it.
      const mailer = createMailer({ smtpUrl: config.smtpUrl, dataDir: config.dataDir, from: config.mailFrom, log, publicUrl: config.publicUrl });
      const pages = createConsole({ db, log, temporal, attachmentsDir: path.join(config.dataDir, 'attachments'), mailer, publicUrl: config.publicUrl });
      api.route('/console', pages.app);
      cleanups.push(async () => mailer.close());
      closeConsole = pages.close;
    }
    const server = await listen(api.fetch, config.port, config.host);
    server.on('upgrade', (request, socket, head) => {
      if (gateway && request.url?.startsWith('/ocpp/')) gateway.handleUpgrade(request, socket, head);
      else socket.destroy();
    });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    // First of all at a stop: the console's live streams end, or the server would wait for them.
    cleanups.push(async () => closeConsole());
    if (gateway) cleanups.push(gateway.close);

    const port = (server.address() as AddressInfo).port;
    return {
      url: config.publicUrl ?? `http://localhost:${port}`,
      port,
      temporalUiUrl,
      generatedAdminToken,
      db,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined); // already logged; the start-up error is the one to report
    throw error;
  }
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server));
    server.once('error', reject);
  });
}

let temporalRuntimeInstalled = false;

/** The Temporal SDK logs through our logger, warnings and up; installed once per process. */
function routeTemporalLogs(log: Logger) {
  if (temporalRuntimeInstalled) return;
  temporalRuntimeInstalled = true;
  const temporalLog = log.child({ component: 'temporal' });
  const logger = new DefaultLogger('WARN', ({ level, message, meta }) => {
    if (level === 'ERROR') temporalLog.error(meta ?? {}, message);
    else temporalLog.warn(meta ?? {}, message);
  });
  // The SDK's native core logs (e.g. retries while Temporal is unreachable) go the same way.
  Runtime.install({ logger, telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } } });
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
  log: () => undefined,
};
