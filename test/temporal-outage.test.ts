import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningConcierge } from '../runtime/concierge.js';
import { createLogger } from '../platform/log.js';
import { startTemporalDevServer, type DevServer } from '../runtime/temporal-dev-server.js';
import { apiClient, eventually, startTestApp, uniqueId } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { freePort } from '../testkit/ports.js';
import { RawCharger } from '../simulator/raw-charger.js';

const PASSWORD = 'correct-horse-battery';

/** Temporal killed with -9 while chargers report faults: every fault becomes an incident once it is back. */
describe('a Temporal outage', () => {
  let dataDir: string;
  let database: TestDatabase;
  let app: RunningConcierge;
  let temporal: DevServer;
  let serverOptions: Parameters<typeof startTemporalDevServer>[0];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-outage-'));
    serverOptions = { port: await freePort(), uiPort: await freePort(), dbFile: path.join(dataDir, 'temporal.sqlite'), namespace: 'default', log: createLogger('silent') };
    temporal = await startTemporalDevServer(serverOptions);
    database = await createTestDatabase('pglite');
    app = await startTestApp({ dataDir, database, taskQueue: uniqueId('outage'), env: { TEMPORAL_ADDRESS: temporal.address } });
  });

  afterAll(async () => {
    await app?.stop();
    await temporal?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the faults in the outbox and delivers every one when Temporal returns', { timeout: 120_000 }, async () => {
    const api = apiClient(app.url);
    const id = uniqueId('CP');
    expect((await api.post('/api/chargers', { id, password: PASSWORD })).status).toBe(201);
    const charger = await RawCharger.connect(app.url.replace('http', 'ws'), id, PASSWORD);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const first = await eventually(async () => (await api.get(`/api/incidents?chargerId=${id}`)).body.incidents[0], 10_000, 'the first incident');

    process.kill(Number(readFileSync(`${serverOptions.dbFile}.pid`, 'utf8')), 'SIGKILL');
    expect((await fetch(`${app.url}/health`)).status).toBe(503);
    // A step, a reported problem and a command need Temporal: once its client gives up retrying
    // (about 20 s), a 503 with the reason, not a 500.
    const [step, reported, command] = await Promise.all([
      api.post(`/api/incidents/${first.id}/acknowledge`, {}),
      api.post('/api/incidents', { chargerId: id, connectorId: 4, source: 'maintenance-finding', description: 'cable sheath cracked', reporter: { name: 'Site engineer' } }),
      api.post(`/api/chargers/${id}/commands/Reset`, { type: 'Soft' }),
    ]);
    for (const refused of [step, reported, command]) {
      expect(refused.status).toBe(503);
      expect(refused.contentType).toBe('application/problem+json');
      expect(refused.body).toMatchObject({ reason: 'TemporalUnavailable', detail: expect.stringMatching(/Temporal/) });
    }
    expect((await api.get(`/api/incidents/${first.id}`)).body.acknowledgedAt).toBeNull();
    // The gateway still accepts and keeps what chargers report.
    for (const connectorId of [2, 3]) {
      expect(await charger.call('StatusNotification', { connectorId, errorCode: 'HighTemperature', status: 'Faulted' })).toEqual([3, expect.any(String), {}]);
    }
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'OverVoltage', status: 'Faulted' });
    // A charger with no incident and no watch: its connect and status changes have nobody to tell
    // in Temporal, so they are delivered without it.
    const quiet = uniqueId('CP');
    expect((await api.post('/api/chargers', { id: quiet, password: PASSWORD })).status).toBe(201);
    const bystander = await RawCharger.connect(app.url.replace('http', 'ws'), quiet, PASSWORD);
    await bystander.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await eventually(async () => {
      const events = await app.db.selectFrom('outbox').select(['kind', 'deliveredAt']).where('chargerId', '=', quiet).execute();
      return events.length === 2 && events.every((e) => e.deliveredAt !== null);
    }, 15_000, "the bystander's events delivered while Temporal is down");
    await eventually(async () => {
      const pending = await app.db.selectFrom('outbox').select('attempts').where('deliveredAt', 'is', null).execute();
      // In order per charger: the oldest is retried, the later two wait behind it.
      return pending.length === 3 && pending.some((row) => row.attempts > 1);
    }, 30_000, 'failed delivery attempts');

    temporal = await startTemporalDevServer(serverOptions);
    const incidents = await eventually(async () => {
      const { body } = await api.get(`/api/incidents?chargerId=${id}`);
      return body.incidents.length === 3 && body.incidents.find((i: { id: string }) => i.id === first.id).faults.length === 2 ? body.incidents : undefined;
    }, 60_000, 'every fault delivered after the restart');
    expect(incidents.map((i: { connectorId: number }) => i.connectorId).sort()).toEqual([1, 2, 3]);
    expect((await app.db.selectFrom('outbox').select('id').where('deliveredAt', 'is', null).execute()).length).toBe(0);
    // The incident from before the outage is still alive in Temporal and takes steps.
    expect((await api.post(`/api/incidents/${first.id}/acknowledge`, {})).status).toBe(200);
    await charger.close();
    await bystander.close();
  });
});
