import { describe, expect, it } from 'vitest';
import greenmart from '../../contracts/agreements/greenmart-retail.js';
import { CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { RawCharger } from '../../simulator/raw-charger.js';

/** The agreement's whole-site-down rule: a dark site is one P1 incident, not one per charger. */
describe('whole site down', () => {
  const chargers = [uniqueId('GS'), uniqueId('GS')];
  const [site] = greenmart.sites;
  const concierge = useTestApp({
    name: 'site',
    agreements: {
      greenmart: {
        ...greenmart,
        sites: [{ ...site!, chargers: chargers.map((id) => ({ id, model: 'Wallbox Commander 2', connectors: 1 })) }],
        incidents: { ...greenmart.incidents, offlineGracePeriod: '2s', wholeSiteDown: { offlinePercentAtLeast: 100, priority: 'P1' } },
      },
    },
    chargers,
    captureHistoriesAs: 'site-down',
  });
  const api = () => concierge.admin;

  it('opens one site incident at the rule’s priority when every charger of the site is offline, and verifies it once all are back', async () => {
    const sockets = await Promise.all(chargers.map((id) => RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD)));
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
    const first = await RawCharger.connect(concierge.ws, chargers[0]!, CHARGER_PASSWORD);
    await eventually(async () => (await concierge.db.selectFrom('outbox').select('id').where('chargerId', '=', chargers[0]!).where('deliveredAt', 'is', null).execute()).length === 0, 10_000, 'the reconnect delivered');
    const waiting = (await api().get(`/api/incidents/${siteIncident.id}`)).body;
    expect(waiting.status).toBe(siteIncident.status);
    expect(waiting.steps.map((s: { step: string }) => s.step)).not.toContain('verification-started');
    // Both back: the site incident verifies the fix.
    const second = await RawCharger.connect(concierge.ws, chargers[1]!, CHARGER_PASSWORD);
    const verifying = await eventually(async () => {
      const { body } = await api().get(`/api/incidents/${siteIncident.id}`);
      return body.status === 'verifying' ? body : null;
    }, 10_000, 'the site incident to verify');
    expect(verifying.steps.find((s: { step: string }) => s.step === 'verification-started').data).toMatchObject({ fixedBy: 'back-online' });
    await Promise.all([first.close(), second.close()]);
  });
});
