import os from 'node:os';
import { Connection, Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApi } from '../../api/app.js';
import type { Db } from '../../db/connect.js';
import { createLogger } from '../../platform/log.js';
import { openTestDatabase } from '../support/databases.js';

const log = createLogger('silent');

describe('GET /health', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let temporal: Client;
  let deadTemporal: Client;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('pglite'));
    temporal = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
    // Nothing listens on port 1: the lazy connection fails when first used.
    deadTemporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500, interceptors: [] }) });
  });

  afterAll(async () => {
    await temporal?.connection.close();
    await dispose?.();
  });

  it('is 503 naming Temporal when Temporal is unreachable', async () => {
    const response = await createApi({ db, temporal: deadTemporal, temporalProbe: deadTemporal, log, taskQueue: 'concierge', commandTimeoutMs: 30_000, incidentSla: { respondWithinMs: 3_600_000, fixWithinMs: 28_800_000 }, bodyLimitBytes: 1_048_576, attachmentsDir: os.tmpdir() }).request('/health');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as { detail: string; checks: Record<string, string> };
    expect(body.detail).toMatch(/^temporal is down/);
    expect(body.checks.database).toBe('up');
  });

  it('is 503 naming the database when the database is unreachable', async () => {
    const { db: closed, dispose: disposeClosed } = await openTestDatabase('pglite');
    await disposeClosed();
    const response = await createApi({ db: closed, temporal, temporalProbe: temporal, log, taskQueue: 'concierge', commandTimeoutMs: 30_000, incidentSla: { respondWithinMs: 3_600_000, fixWithinMs: 28_800_000 }, bodyLimitBytes: 1_048_576, attachmentsDir: os.tmpdir() }).request('/health');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { detail: string; checks: Record<string, string> };
    expect(body.detail).toMatch(/^database is down/);
    expect(body.checks.temporal).toBe('up');
  });

  it('answers unknown routes with a problem+json 404', async () => {
    const response = await createApi({ db, temporal, temporalProbe: temporal, log, taskQueue: "concierge", commandTimeoutMs: 30_000, incidentSla: { respondWithinMs: 3_600_000, fixWithinMs: 28_800_000 }, bodyLimitBytes: 1_048_576, attachmentsDir: os.tmpdir() }).request('/nowhere');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ status: 404, detail: 'no route for GET /nowhere' });
  });
});
