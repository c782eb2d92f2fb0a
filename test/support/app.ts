import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { loadConfig } from '../../runtime/config.js';
import { startConcierge, type RunningConcierge } from '../../runtime/concierge.js';
import { createLogger } from '../../platform/log.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { captureHistories } from './histories.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestAppOptions {
  dataDir: string;
  database: TestDatabase;
  /** Keep the same queue across restarts of one app; distinct apps must not share one. */
  taskQueue: string;
  env?: Record<string, string>;
  /** The gateway's clock for connects and disconnects (a simulated month's); the system clock otherwise. */
  clock?: () => Date;
}

/** The whole app in this process, on a random port, against the run's Temporal server. */
export function startTestApp(options: TestAppOptions): Promise<RunningConcierge> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: options.dataDir,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    CONCIERGE_ADMIN_TOKEN: ADMIN_TOKEN,
    GATEWAY_NODE: `node-${options.taskQueue}`,
    ...('url' in options.database.target ? { DATABASE_URL: options.database.target.url } : {}),
    ...options.env,
  });
  return startConcierge(config, { log: createLogger(process.env.TEST_LOG_LEVEL ?? 'error'), workflowBundle: { codePath: inject('workflowBundlePath') }, clock: options.clock });
}

export const uniqueId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A small API client: JSON in, status and JSON out. */
export function apiClient(baseUrl: string, token: string = ADMIN_TOKEN) {
  async function request(method: string, path: string, body?: unknown) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  }
  return {
    get: (path: string) => request('GET', path),
    post: (path: string, body?: unknown) => request('POST', path, body),
    delete: (path: string) => request('DELETE', path),
  };
}

/** The password the suites register their chargers with. */
export const CHARGER_PASSWORD = 'correct-horse-battery';

type ApiClient = ReturnType<typeof apiClient>;

export interface TestAppSetup {
  /** Names the data folder and the task queue (a random suffix keeps files apart). */
  name: string;
  database?: TestDatabase['kind'];
  env?: Record<string, string> | (() => Record<string, string>);
  /**
   * Agreements to run with instead of the shipped ones: file stem → agreement, written to
   * `<dataDir>/agreements/<stem>.mjs` as its default export; AGREEMENTS_DIR points there.
   */
  agreements?: Record<string, unknown>;
  /** Chargers registered with CHARGER_PASSWORD once the app runs. */
  chargers?: string[];
  /** Runs after the database is created and before the app starts (e.g. rows from "before"); PGlite is the app's own, in `<dataDir>/pglite`. */
  beforeStart?: (database: TestDatabase, dataDir: string) => Promise<void>;
  /** After the file's tests, captures their workflow histories under this name (npm run capture-histories). */
  captureHistoriesAs?: string;
  /** The gateway's clock for connects and disconnects, for a simulated month's offline periods. */
  clock?: () => Date;
}

/** Concierge as the tests of one file share it: started before them, stopped after. */
export interface TestApp {
  readonly app: RunningConcierge;
  readonly url: string;
  /** The gateway's WebSocket base URL (`ws://…`). */
  readonly ws: string;
  readonly db: RunningConcierge['db'];
  readonly dataDir: string;
  readonly database: TestDatabase;
  readonly taskQueue: string;
  /** The API as the admin. */
  readonly admin: ApiClient;
  /** The API as the holder of `token`. */
  as(token: string): ApiClient;
  /** Registers a charger (a new id unless given) with CHARGER_PASSWORD and returns its id. */
  registerCharger(id?: string, extra?: object): Promise<string>;
  /** Writes an agreement file as the account manager would (`<dataDir>/agreements/<stem>.mjs`); read at the next start. */
  writeAgreement(stem: string, agreement: unknown): void;
  /** Stops the app and starts it again on the same data and task queue, with `env` added, doing `whileStopped` in between. */
  restart(options?: { env?: Record<string, string>; whileStopped?: () => void | Promise<void> }): Promise<void>;
}

/**
 * The whole app for the tests of a file (or of a `describe`), on a fresh database: registers
 * beforeAll/afterAll, so each file starts Concierge once and shares it between its tests.
 */
export function useTestApp(setup: TestAppSetup): TestApp {
  const taskQueue = uniqueId(setup.name);
  let prepared: { dataDir: string; database: TestDatabase; env: Record<string, string> } | undefined;
  let app: RunningConcierge | undefined;
  const running = () => {
    if (!prepared || !app) throw new Error(`the ${setup.name} test app is not running (used outside a test, or its start failed)`);
    return { ...prepared, app };
  };

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `concierge-${setup.name}-`));
    const env = { ...(typeof setup.env === 'function' ? setup.env() : setup.env) };
    if (setup.agreements) {
      for (const [stem, agreement] of Object.entries(setup.agreements)) writeAgreementFile(dataDir, stem, agreement);
      env.AGREEMENTS_DIR = path.join(dataDir, 'agreements');
    }
    prepared = { dataDir, env, database: await createTestDatabase(setup.database ?? 'pglite', path.join(dataDir, 'pglite')) };
    await setup.beforeStart?.(prepared.database, dataDir);
    app = await startTestApp({ dataDir, database: prepared.database, taskQueue, env, clock: setup.clock });
    for (const id of setup.chargers ?? []) await handle.registerCharger(id);
  });

  afterAll(async () => {
    if (!prepared) return;
    const { dataDir, database, env } = prepared;
    try {
      if (setup.captureHistoriesAs && app) await captureHistories(env.TEMPORAL_ADDRESS ?? inject('temporalAddress'), setup.captureHistoriesAs, { liveTaskQueue: taskQueue });
    } finally {
      await app?.stop();
      await database.dispose();
      rmSync(dataDir, { recursive: true, force: true });
      app = undefined;
      prepared = undefined;
    }
  });

  const handle: TestApp = {
    get app() {
      return running().app;
    },
    get url() {
      return running().app.url;
    },
    get ws() {
      return running().app.url.replace('http', 'ws');
    },
    get db() {
      return running().app.db;
    },
    get dataDir() {
      return running().dataDir;
    },
    get database() {
      return running().database;
    },
    taskQueue,
    get admin() {
      return apiClient(running().app.url);
    },
    as: (token) => apiClient(running().app.url, token),
    async registerCharger(id = uniqueId('CP'), extra = {}) {
      const answer = await apiClient(running().app.url).post('/api/chargers', { id, password: CHARGER_PASSWORD, ...extra });
      expect(answer.status, `registering ${id}: ${JSON.stringify(answer.body)}`).toBe(201);
      return id;
    },
    writeAgreement(stem, agreement) {
      if (!prepared) throw new Error(`the ${setup.name} test app has no data folder yet`);
      writeAgreementFile(prepared.dataDir, stem, agreement);
    },
    async restart({ env = {}, whileStopped } = {}) {
      const current = running();
      await current.app.stop();
      app = undefined;
      await whileStopped?.();
      prepared = { dataDir: current.dataDir, database: current.database, env: { ...current.env, ...env } };
      app = await startTestApp({ dataDir: current.dataDir, database: current.database, taskQueue, env: prepared.env, clock: setup.clock });
    },
  };
  return handle;
}

function writeAgreementFile(dataDir: string, stem: string, agreement: unknown) {
  mkdirSync(path.join(dataDir, 'agreements'), { recursive: true });
  writeFileSync(path.join(dataDir, 'agreements', `${stem}.mjs`), `export default ${JSON.stringify(agreement)};\n`);
}

export { eventually } from '../../testkit/eventually.js';
