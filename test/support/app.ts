import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig } from '../../runtime/config.js';
import { startConcierge, type RunningConcierge } from '../../runtime/concierge.js';
import { createLogger } from '../../platform/log.js';
import type { TestDatabase } from './databases.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestAppOptions {
  dataDir: string;
  database: TestDatabase;
  /** Keep the same queue across restarts of one app; distinct apps must not share one. */
  taskQueue: string;
  env?: Record<string, string>;
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
  return startConcierge(config, { log: createLogger(process.env.TEST_LOG_LEVEL ?? 'error'), workflowBundle: { codePath: inject('workflowBundlePath') } });
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
  };
}

export { eventually } from '../../testkit/eventually.js';
