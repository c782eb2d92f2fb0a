import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../db/connect.js';
import { ADMIN_TOKEN, apiClient, eventually, uniqueId } from '../support/app.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';
import { startProcess, stopProcess, type ConciergeProcess } from '../../testkit/processes.js';
import { RawCharger } from '../../simulator/raw-charger.js';

const PASSWORD = 'correct-horse-battery';

/**
 * Scaled out as in production: one worker process and two gateway+API processes, separate OS
 * processes against the same Temporal server and PostgreSQL (PGlite is one process's database).
 */
describe.each(databaseKinds.filter((kind) => kind === 'postgres'))('two gateways and a worker on %s', (kind) => {
  let dataDir: string;
  let database: TestDatabase;
  const taskQueue = uniqueId('scale');
  const processes = new Map<string, ConciergeProcess>();

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-scale-'));
    database = await createTestDatabase(kind);
    // Gateway B starts first, so it takes the outbox relay lease; the other two start together
    // (both migrate and sync agreements at once).
    await start('gateway-b', 'gateway,api');
    await Promise.all([start('gateway-a', 'gateway,api'), start('worker', 'worker')]);
  }, 240_000);

  afterAll(async () => {
    for (const name of [...processes.keys()]) await stop(name, 'SIGTERM');
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(name: string, roles: string) {
    const started = await startProcess(name, {
      CONCIERGE_ROLES: roles,
      GATEWAY_NODE: `${taskQueue}-${name}`,
      DATA_DIR: path.join(dataDir, name),
      DATABASE_URL: (database.target as { url: string }).url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      CONCIERGE_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    processes.set(name, started);
    return started;
  }

  async function stop(name: string, signal: NodeJS.Signals) {
    const started = processes.get(name)!;
    processes.delete(name);
    await stopProcess(started, signal);
  }

  const url = (name: string) => processes.get(name)!.url;

  it('a command through gateway A reaches a charger on gateway B; faults on B reach the worker; A takes over when B dies', { timeout: 120_000 }, async () => {
    const apiA = apiClient(url('gateway-a'));
    const chargerId = uniqueId('SCALE');
    expect((await apiA.post('/api/chargers', { id: chargerId, password: PASSWORD })).status).toBe(201);
    const onB = await RawCharger.connect(url('gateway-b').replace('http', 'ws'), chargerId, PASSWORD);
    await onB.call('BootNotification', { chargePointVendor: 'ABB', chargePointModel: 'Terra AC' });
    expect((await apiA.get(`/api/chargers/${chargerId}`)).body).toMatchObject({ connected: true });

    const sent = apiA.post(`/api/chargers/${chargerId}/commands/Reset`, { type: 'Soft' });
    const call = await onB.nextFrame(30_000);
    expect(call[2]).toBe('Reset');
    onB.answer(call, { status: 'Accepted' });
    expect(await sent).toMatchObject({ status: 200, body: { response: { status: 'Accepted' } } });

    await onB.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const incident = await eventually(async () => (await apiA.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents[0], 30_000, 'the incident via the worker');
    expect(incident).toMatchObject({ connectorId: 1, status: 'opened' });

    // Gateway B, which relays the outbox, dies hard: the charger reconnects to A, commands follow
    // it, and once B's lease runs out another process relays its faults.
    const db = openDatabase(database.target);
    const leaseHolder = async () => (await db.selectFrom('leases').select('holder').where('name', '=', 'outbox-relay').executeTakeFirst())?.holder;
    expect(await leaseHolder()).toMatch(new RegExp(`^${taskQueue}-gateway-b:`));
    await stop('gateway-b', 'SIGKILL');
    await onB.closed();
    const onA = await RawCharger.connect(url('gateway-a').replace('http', 'ws'), chargerId, PASSWORD);
    await onA.call('StatusNotification', { connectorId: 2, errorCode: 'HighTemperature', status: 'Faulted' });
    const resent = apiA.post(`/api/chargers/${chargerId}/commands/TriggerMessage`, { requestedMessage: 'Heartbeat' });
    onA.answer(await onA.nextFrame(30_000), { status: 'Accepted' });
    expect((await resent).status).toBe(200);
    await eventually(async () => (await apiA.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents.length === 2, 45_000, 'the second incident');
    expect(await leaseHolder()).not.toMatch(new RegExp(`^${taskQueue}-gateway-b:`));
    await db.destroy();
    await onA.close();
  });
});
