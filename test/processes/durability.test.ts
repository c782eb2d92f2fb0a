import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN, apiClient, eventually, uniqueId } from '../support/app.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';
import { startProcess, stopProcess, type ConciergeProcess } from '../../testkit/processes.js';
import { RawCharger } from '../../simulator/raw-charger.js';

const PASSWORD = 'correct-horse-battery';

/**
 * The worker killed with -9 in the middle of a running incident: after it restarts the incident
 * continues with the same deadlines, its timers fire, faults sent meanwhile are all there, and a
 * pause taken before the kill is still counted. (PostgreSQL: the worker and the gateway are two
 * processes; Temporal restarts are covered by the one-command and Temporal-outage suites.)
 */
describe.each(databaseKinds.filter((kind) => kind === 'postgres'))('kill -9 of the worker mid-incident on %s', (kind) => {
  let dataDir: string;
  let database: TestDatabase;
  let gateway: ConciergeProcess;
  let worker: ConciergeProcess | undefined;
  const taskQueue = uniqueId('durable');
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-durable-'));
    database = await createTestDatabase(kind);
    env = {
      DATABASE_URL: (database.target as { url: string }).url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      CONCIERGE_ADMIN_TOKEN: ADMIN_TOKEN,
      INCIDENT_RESPOND_WITHIN: '10s',
      INCIDENT_FIX_WITHIN: '1h',
    };
    gateway = await startProcess('gateway', { ...env, CONCIERGE_ROLES: 'gateway,api', GATEWAY_NODE: `${taskQueue}-gw`, DATA_DIR: path.join(dataDir, 'gw') });
    worker = await startProcess('worker', { ...env, CONCIERGE_ROLES: 'worker', DATA_DIR: path.join(dataDir, 'worker') });
  }, 240_000);

  afterAll(async () => {
    if (worker) await stopProcess(worker, 'SIGTERM');
    if (gateway) await stopProcess(gateway, 'SIGTERM');
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps deadlines, timers, faults and pauses across the kill', { timeout: 180_000 }, async () => {
    const api = apiClient(gateway.url);
    const chargerId = uniqueId('DUR');
    expect((await api.post('/api/chargers', { id: chargerId, password: PASSWORD })).status).toBe(201);
    const charger = await RawCharger.connect(gateway.url.replace('http', 'ws'), chargerId, PASSWORD);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const opened = await eventually(async () => (await api.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents[0], 20_000, 'the incident');
    const { respondBy, fixBy } = opened.sla;

    await stopProcess(worker!, 'SIGKILL');
    worker = undefined;
    // While no worker runs: another fault goes to Temporal and waits there.
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'HighTemperature', status: 'Faulted' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    worker = await startProcess('worker', { ...env, CONCIERGE_ROLES: 'worker', DATA_DIR: path.join(dataDir, 'worker') });

    const continued = await eventually(async () => {
      const body = (await api.get(`/api/incidents/${opened.id}`)).body;
      return body.faults.length === 2 && body.steps.some((s: { step: string }) => s.step === 'response-breached') ? body : null;
    }, 60_000, 'the second fault and the response breach after the restart');
    expect(continued.sla).toMatchObject({ respondBy, fixBy });
    const breach = continued.steps.find((s: { step: string }) => s.step === 'response-breached');
    expect(Date.parse(breach.at)).toBeGreaterThanOrEqual(Date.parse(respondBy));

    // A pause taken before a kill is still counted after it: the fix deadline moves by exactly the paused time.
    expect((await api.post(`/api/incidents/${opened.id}/pause`, { reason: 'parts' })).status).toBe(200);
    await stopProcess(worker, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    worker = await startProcess('worker', { ...env, CONCIERGE_ROLES: 'worker', DATA_DIR: path.join(dataDir, 'worker') });
    const resumed = await api.post(`/api/incidents/${opened.id}/resume`);
    expect(resumed.status).toBe(200);
    const paused = resumed.body.sla.fix.pausedBusinessMs;
    expect(paused).toBeGreaterThan(1_500);
    expect(Date.parse(resumed.body.sla.fixBy) - Date.parse(fixBy)).toBe(paused);
    await charger.close();
  });
});
