import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import greenmart from '../contracts/agreements/greenmart-retail.js';
import type { RunningConcierge } from '../runtime/concierge.js';
import { apiClient, eventually, startTestApp, uniqueId } from './support/app.js';
import { captureHistories } from './support/histories.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { RawCharger } from '../simulator/raw-charger.js';

const PASSWORD = 'correct-horse-battery';

/** The agreement's whole-site-down rule: a dark site is one P1 incident, not one per charger. */
describe('whole site down', () => {
  const taskQueue = uniqueId('site');
  let dataDir: string;
  let database: TestDatabase;
  let app: RunningConcierge;
  const chargers = [uniqueId('GS'), uniqueId('GS')];
  const api = () => apiClient(app.url);

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-site-'));
    const agreementsDir = path.join(dataDir, 'agreements');
    mkdirSync(agreementsDir);
    const [site] = greenmart.sites;
    const agreement = {
      ...greenmart,
      sites: [{ ...site!, chargers: chargers.map((id) => ({ id, model: 'Wallbox Commander 2', connectors: 1 })) }],
      incidents: { ...greenmart.incidents, offlineGracePeriod: '2s', wholeSiteDown: { offlinePercentAtLeast: 100, priority: 'P1' } },
    };
    writeFileSync(path.join(agreementsDir, 'greenmart.mjs'), `export default ${JSON.stringify(agreement)};\n`);
    database = await createTestDatabase('pglite');
    app = await startTestApp({ dataDir, database, taskQueue, env: { AGREEMENTS_DIR: agreementsDir } });
    for (const id of chargers) expect((await api().post('/api/chargers', { id, password: PASSWORD })).status).toBe(201);
  });

  afterAll(async () => {
    if (app) await captureHistories(inject('temporalAddress'), 'site-down', { liveTaskQueue: taskQueue });
    await app?.stop();
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens one site incident at the rule’s priority when every charger of the site is offline, and verifies it once all are back', async () => {
    const sockets = await Promise.all(chargers.map((id) => RawCharger.connect(app.url.replace('http', 'ws'), id, PASSWORD)));
    for (const socket of sockets) await socket.call('Heartbeat', {});
    await Promise.all(sockets.map((s) => s.close()));
    const siteIncident = await eventually(async () => {
      const { body } = await api().get('/api/incidents?chargerId=site:greenmart-leeds');
      const [incident] = body.incidents;
      return incident?.faults.length === 2 ? incident : null;
    }, 20_000, 'the site incident with both chargers');
    expect(siteIncident).toMatchObject({ connectorId: 0, priority: 'P1', source: 'offline', agreement: { id: 'greenmart-retail', faultClass: 'whole-site-down' }, site: { id: 'greenmart-leeds' } });
    expect(siteIncident.faults.map((f: { info: string }) => f.info.split(':')[0]).sort()).toEqual([...chargers].sort());
    for (const id of chargers) expect((await api().get(`/api/incidents?chargerId=${id}`)).body.incidents).toEqual([]);

    // One charger back: the site is not; the incident waits, open.
    const ws = app.url.replace('http', 'ws');
    const first = await RawCharger.connect(ws, chargers[0]!, PASSWORD);
    await eventually(async () => (await app.db.selectFrom('outbox').select('id').where('chargerId', '=', chargers[0]!).where('deliveredAt', 'is', null).execute()).length === 0, 10_000, 'the reconnect delivered');
    const waiting = (await api().get(`/api/incidents/${siteIncident.id}`)).body;
    expect(waiting.status).toBe(siteIncident.status);
    expect(waiting.steps.map((s: { step: string }) => s.step)).not.toContain('verification-started');
    // Both back: the site incident verifies the fix.
    const second = await RawCharger.connect(ws, chargers[1]!, PASSWORD);
    const verifying = await eventually(async () => {
      const { body } = await api().get(`/api/incidents/${siteIncident.id}`);
      return body.status === 'verifying' ? body : null;
    }, 10_000, 'the site incident to verify');
    expect(verifying.steps.find((s: { step: string }) => s.step === 'verification-started').data).toMatchObject({ fixedBy: 'back-online' });
    await Promise.all([first.close(), second.close()]);
  });
});
