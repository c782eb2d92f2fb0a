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

/**
 * Concierge's own stop and restart disconnect every charger it holds. They come back once it is
 * up; until they have had the grace period to do so, their absence is not an outage — neither the
 * charger's nor the site's. A charger that went away by itself is still one.
 */
describe('a restart of Concierge with chargers connected', () => {
  const GRACE_MS = 6_000;
  const [away, ...held] = [uniqueId('RS'), uniqueId('RS'), uniqueId('RS')];
  const [site] = greenmart.sites;
  const siteId = uniqueId('greenmart-site');
  const concierge = useTestApp({
    name: 'restart-site',
    agreements: {
      greenmart: {
        ...greenmart,
        sites: [{ ...site!, id: siteId, chargers: [away!, ...held].map((id) => ({ id, model: 'Wallbox Commander 2', connectors: 1 })) }],
        incidents: { ...greenmart.incidents, offlineGracePeriod: `${GRACE_MS / 1000}s`, wholeSiteDown: { offlinePercentAtLeast: 100, priority: 'P1' } },
      },
    },
    chargers: [away!, ...held],
    captureHistoriesAs: 'site-restart',
  });
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const incidentsOf = async (chargerId: string) => (await concierge.admin.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents as Array<{ source: string; priority: string }>;
  const connect = async (id: string) => {
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await charger.call('Heartbeat', {});
    return charger;
  };

  it('opens no offline or site incident for the chargers it disconnected itself, though it was down longer than the grace; the one away by itself gets its own', async () => {
    const [first, ...others] = await Promise.all([away!, ...held].map(connect));
    await first!.close(); // away of its own doing, just before the restart; its watch starts
    const delivered = async (id: string) => (await concierge.db.selectFrom('outbox').select('id').where('chargerId', '=', id).where('deliveredAt', 'is', null).execute()).length === 0;
    await eventually(() => delivered(away!), 10_000, 'the disconnect delivered to its watch');
    // Down longer than the grace period: the watch's timer is due when Concierge is back, and its
    // worker judges the site before the others have reconnected.
    await concierge.restart({ whileStopped: () => sleep(GRACE_MS + 2_000) });
    await sleep(0.75 * GRACE_MS);
    // The others come back as chargers do after a server restart, within the grace period.
    const back = await Promise.all(held.map(connect));
    void others;

    const own = await eventually(async () => (await incidentsOf(away!))[0], 20_000, 'the offline incident of the charger away by itself');
    expect(own).toMatchObject({ source: 'offline', connectorId: 0 });
    await sleep(2 * GRACE_MS); // long past every grace period
    expect(await incidentsOf(`site:${siteId}`)).toEqual([]);
    for (const id of held) expect(await incidentsOf(id)).toEqual([]);
    const facts = await concierge.db.selectFrom('chargers').select(['id', 'connected', 'disconnectedByGateway']).where('id', 'in', held).execute();
    expect(facts.every((c) => c.connected && !c.disconnectedByGateway)).toBe(true);
    await Promise.all(back.map((c) => c.close()));
  });
});
