import { describe, expect, it } from 'vitest';
import { useOwnTemporal } from '../support/temporal.js';
import { CHARGER_PASSWORD, eventually, useTestApp } from '../support/app.js';
import { RawCharger } from '../../simulator/raw-charger.js';

/** Temporal killed with -9 while chargers report faults: every fault becomes an incident once it is back. */
describe('a Temporal outage', () => {
  const temporal = useOwnTemporal(); // this test kills it
  const concierge = useTestApp({ name: 'outage', env: () => ({ TEMPORAL_ADDRESS: temporal.address }) });

  it('keeps the faults in the outbox and delivers every one when Temporal returns', { timeout: 120_000 }, async () => {
    const api = concierge.admin;
    const id = await concierge.registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const first = await eventually(async () => (await api.get(`/api/incidents?chargerId=${id}`)).body.incidents[0], 10_000, 'the first incident');

    temporal.kill();
    expect((await fetch(`${concierge.url}/health`)).status).toBe(503);
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
    const quiet = await concierge.registerCharger();
    const bystander = await RawCharger.connect(concierge.ws, quiet, CHARGER_PASSWORD);
    await bystander.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await eventually(async () => {
      const events = await concierge.db.selectFrom('outbox').select(['kind', 'deliveredAt']).where('chargerId', '=', quiet).execute();
      return events.length === 2 && events.every((e) => e.deliveredAt !== null);
    }, 15_000, "the bystander's events delivered while Temporal is down");
    await eventually(async () => {
      const pending = await concierge.db.selectFrom('outbox').select('attempts').where('deliveredAt', 'is', null).execute();
      // In order per charger: the oldest is retried, the later two wait behind it.
      return pending.length === 3 && pending.some((row) => row.attempts > 1);
    }, 30_000, 'failed delivery attempts');

    await temporal.start();
    const incidents = await eventually(async () => {
      const { body } = await api.get(`/api/incidents?chargerId=${id}`);
      return body.incidents.length === 3 && body.incidents.find((i: { id: string }) => i.id === first.id).faults.length === 2 ? body.incidents : undefined;
    }, 60_000, 'every fault delivered after the restart');
    expect(incidents.map((i: { connectorId: number }) => i.connectorId).sort()).toEqual([1, 2, 3]);
    expect((await concierge.db.selectFrom('outbox').select('id').where('deliveredAt', 'is', null).execute()).length).toBe(0);
    // The incident from before the outage is still alive in Temporal and takes steps.
    expect((await api.post(`/api/incidents/${first.id}/acknowledge`, {})).status).toBe(200);
    await charger.close();
    await bystander.close();
  });
});
