import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../api/auth.js';
import { calendarFor } from '../../contracts/agreement-terms.js';
import harbour from '../../contracts/agreements/harbour-estates.js';
import { slaDeadlines } from '../../contracts/sla.js';
import { loadAgreements } from '../../agreements/load.js';
import { ADMIN_TOKEN, CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';
import { HandshakeRefused, RawCharger } from '../../simulator/raw-charger.js';

describe.each(databaseKinds)('walking skeleton on %s', (kind) => {
  // Harbour Estates' agreement, covering two chargers with ids unique to this run.
  const covered = { garage: uniqueId('HP'), plaza: uniqueId('HPL') };
  const [garage, plaza] = harbour.sites;
  const agreement = {
    ...harbour,
    sites: [
      { ...garage!, chargers: [{ id: covered.garage, model: 'ChargePoint CPF50', connectors: 1 }] },
      { ...plaza!, chargers: [{ id: covered.plaza, model: 'Enel X JuiceBox Pro 40', connectors: 1 }] },
    ],
  };
  const concierge = useTestApp({ name: 'skeleton', database: kind, env: { INCIDENT_RESPOND_WITHIN: '4s', INCIDENT_FIX_WITHIN: '1h' }, agreements: { harbour: agreement } });
  const api = () => concierge.admin;
  const registerCharger = (prefix = 'CP') => concierge.registerCharger(uniqueId(prefix), { siteId: 'site-1' });

  it('answers /health with 200 when the database and Temporal are up', async () => {
    const response = await fetch(`${concierge.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { database: 'up', temporal: 'up' } });
  });

  it('serves the OpenAPI document and a docs page without internet', async () => {
    const doc = (await (await fetch(`${concierge.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/chargers', '/api/incidents', '/api/incidents/{id}/acknowledge']));
    const page = await fetch(`${concierge.url}/docs`);
    expect(await page.text()).toContain('/docs/assets/swagger-ui-bundle.js');
    expect((await fetch(`${concierge.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it('refuses /api without a valid bearer token, as problem+json', async () => {
    const missing = await fetch(`${concierge.url}/api/incidents`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    const wrong = await concierge.as('not-a-real-token').get('/api/incidents');
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail).toMatch(/not valid/);
  });

  it('rejects an invalid charger registration with every field named, and stores nothing', async () => {
    const response = await api().post('/api/chargers', { id: 'bad id/with slash', password: 'short' });
    expect(response.status).toBe(400);
    expect(response.contentType).toBe('application/problem+json');
    expect(response.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['id', 'password']);
    expect((await api().get('/api/chargers/bad%20id')).status).toBe(400);
  });

  it('refuses a duplicate charger id with 409 and a venue token with 403', async () => {
    const id = await registerCharger();
    const again = await api().post('/api/chargers', { id, password: CHARGER_PASSWORD });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain(id);
    const venue = concierge.as(await issueToken(concierge.db, 'venue', 'Hotel Alpina'));
    expect((await venue.post('/api/chargers', { id: uniqueId('CP'), password: CHARGER_PASSWORD })).status).toBe(403);
  });

  it('refuses unknown chargers, wrong passwords and missing subprotocols at the handshake', async () => {
    const id = await registerCharger();
    await expect(RawCharger.connect(concierge.ws, uniqueId('NOPE'), CHARGER_PASSWORD)).rejects.toEqual(new HandshakeRefused(401));
    await expect(RawCharger.connect(concierge.ws, id, 'wrong-password-123456')).rejects.toEqual(new HandshakeRefused(401));
    await expect(RawCharger.connect(concierge.ws, id, null)).rejects.toEqual(new HandshakeRefused(401));
    await expect(RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD, ['ocpp1.5'])).rejects.toEqual(new HandshakeRefused(400));
    expect((await api().get(`/api/chargers/${id}`)).body.connected).toBe(false);
  });

  it('turns a Faulted StatusNotification into one incident; a repeat fault adds an occurrence', async () => {
    const id = await registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    expect(charger.protocol).toBe('ocpp1.6');
    const boot = await charger.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve Single' });
    expect(boot[0]).toBe(3);
    expect(boot[2]).toMatchObject({ status: 'Accepted', interval: 300 });

    const faultedAt = new Date().toISOString();
    expect(await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: faultedAt, vendorErrorCode: 'E42' })).toEqual([3, expect.any(String), {}]);

    const [incident] = await eventually(async () => {
      const { body } = await api().get(`/api/incidents?chargerId=${id}`);
      return body.incidents.length > 0 ? body.incidents : undefined;
    }, 5_000, 'the incident');
    expect(incident).toMatchObject({ chargerId: id, connectorId: 1, status: 'opened', priority: 'P2' });
    expect(incident.faults).toEqual([{ status: 'Faulted', errorCode: 'GroundFailure', vendorErrorCode: 'E42', info: null, at: faultedAt, receivedAt: expect.any(String) }]);
    expect(Date.parse(incident.sla.respondBy) - Date.parse(incident.openedAt)).toBe(4_000);
    expect(Date.parse(incident.sla.fixBy) - Date.parse(incident.openedAt)).toBe(3_600_000);

    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'HighTemperature', status: 'Faulted' });
    const again = await eventually(async () => {
      const { body } = await api().get(`/api/incidents/${incident.id}`);
      return body.faults.length === 2 ? body : undefined;
    }, 5_000, 'the second occurrence');
    expect(again.faults.map((f: { errorCode: string }) => f.errorCode)).toEqual(['GroundFailure', 'HighTemperature']);
    expect((await api().get(`/api/incidents?chargerId=${id}`)).body.incidents).toHaveLength(1);

    const status = (await api().get(`/api/chargers/${id}`)).body;
    expect(status).toMatchObject({ connected: true, protocol: 'ocpp1.6', vendor: 'Alfen', model: 'Eve Single' });
    expect(status.connectors).toEqual([expect.objectContaining({ connectorId: 1, status: 'Faulted', errorCode: 'HighTemperature' })]);
    await charger.close();
    await eventually(async () => (await api().get(`/api/chargers/${id}`)).body.connected === false, 5_000, 'disconnect');
  });

  it('speaks OCPP 2.0.1: boot, status persisted per EVSE, a Faulted EVSE opens an incident', async () => {
    const id = await registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD, ['ocpp2.0.1', 'ocpp1.6']);
    expect(charger.protocol).toBe('ocpp2.0.1');
    const boot = await charger.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Zaptec', model: 'Go', firmwareVersion: '2.1' } });
    expect(boot[2]).toMatchObject({ status: 'Accepted', interval: 300 });
    const at = new Date().toISOString();
    expect((await charger.call('StatusNotification', { timestamp: at, connectorStatus: 'Available', evseId: 1, connectorId: 1 }))[0]).toBe(3);
    expect((await charger.call('StatusNotification', { timestamp: at, connectorStatus: 'Faulted', evseId: 2, connectorId: 1 }))[0]).toBe(3);

    const status = (await api().get(`/api/chargers/${id}`)).body;
    expect(status).toMatchObject({ protocol: 'ocpp2.0.1', vendor: 'Zaptec', model: 'Go', firmwareVersion: '2.1' });
    expect(status.connectors.map((c: { connectorId: number; status: string }) => [c.connectorId, c.status])).toEqual([
      [1, 'Available'],
      [2, 'Faulted'],
    ]);
    const incidents = await eventually(async () => {
      const { body } = await api().get(`/api/incidents?chargerId=${id}`);
      return body.incidents.length > 0 ? body.incidents : undefined;
    }, 5_000, 'the 2.0.1 incident');
    expect(incidents).toEqual([expect.objectContaining({ connectorId: 2, priority: 'P2', status: 'opened' })]);
    await charger.close();
  });

  it("runs an incident on a covered charger under its agreement's fault classes, SLA targets and calendars", async () => {
    for (const id of [covered.garage, covered.plaza]) expect((await api().post('/api/chargers', { id, password: CHARGER_PASSWORD })).status).toBe(201);
    const garage = await RawCharger.connect(concierge.ws, covered.garage, CHARGER_PASSWORD);
    const plaza = await RawCharger.connect(concierge.ws, covered.plaza, CHARGER_PASSWORD);
    // GroundFailure is the agreement's "electrical" class: P1, 1 h / 24 h on the 24/7 calendar.
    await garage.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    // ReaderFailure is its "other" class: P3, 8 h / 5 d on the field team's shifts in New York.
    await plaza.call('StatusNotification', { connectorId: 1, errorCode: 'ReaderFailure', status: 'Available' });
    const incidentOf = (chargerId: string) =>
      eventually(async () => (await api().get(`/api/incidents?chargerId=${chargerId}`)).body.incidents[0], 5_000, `incident on ${chargerId}`);

    const electrical = await incidentOf(covered.garage);
    expect(electrical).toMatchObject({ priority: 'P1', agreement: { id: 'harbour-estates', version: 1 } });
    // Harbour's clocks start at the fault's reported time (retroactive start, at most 1 h back).
    expect(Date.parse(electrical.sla.response.startedAt)).toBeLessThanOrEqual(Date.parse(electrical.openedAt));
    expect(Date.parse(electrical.sla.respondBy) - Date.parse(electrical.sla.response.startedAt)).toBe(3_600_000);
    expect(Date.parse(electrical.sla.fixBy) - Date.parse(electrical.sla.fix.startedAt)).toBe(24 * 3_600_000);

    const reader = await incidentOf(covered.plaza);
    expect(reader).toMatchObject({ priority: 'P3', agreement: { id: 'harbour-estates', version: 1 } });
    const loaded = (await loadAgreements(path.join(concierge.dataDir, 'agreements'))).agreements[0]!;
    const expected = slaDeadlines(new Date(reader.sla.response.startedAt), {
      respondWithinMs: 8 * 3_600_000,
      fixWithinMs: 5 * 24 * 3_600_000,
      calendar: calendarFor(loaded, 'field-shifts', 'America/New_York'),
    });
    expect(reader.sla).toMatchObject({ respondBy: expected.respondBy.toISOString(), fixBy: expected.fixBy.toISOString() });
    await garage.close();
    await plaza.close();
  });

  it('answers a malformed frame with a CALLERROR and keeps the socket open', async () => {
    const id = await registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    charger.sendRaw('[2, "x1", "Heartbeat", {');
    expect(await charger.nextFrame()).toEqual([4, '-1', 'RpcFrameworkError', expect.any(String), {}]);
    expect(await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NotAnErrorCode', status: 'Faulted' })).toEqual([
      4,
      expect.any(String),
      'FormationViolation',
      expect.stringContaining('errorCode'),
      expect.anything(),
    ]);
    expect(charger.isOpen).toBe(true);
    const heartbeat = await charger.call('Heartbeat', {});
    expect(heartbeat[0]).toBe(3);
    await charger.close();
  });

  it('still raises a fault the schema rejects (vendor error code, odd offset) and keeps the raw frame', async () => {
    const id = await registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    const sent = { connectorId: 1, errorCode: 'E-4711', status: 'Faulted', timestamp: '2026-11-24T10:00:00+0100', info: 'RCD tripped' };
    const answer = await charger.call('StatusNotification', sent);
    expect(answer[0]).toBe(4); // the CALLERROR strict mode prescribes
    const [incident] = await eventually(async () => {
      const { body } = await api().get(`/api/incidents?chargerId=${id}`);
      return body.incidents.length > 0 ? body.incidents : undefined;
    }, 5_000, 'the salvaged incident');
    expect(incident.faults).toEqual([{ status: 'Faulted', errorCode: 'OtherError', vendorErrorCode: 'E-4711', info: 'RCD tripped', at: '2026-11-24T09:00:00.000Z', receivedAt: expect.any(String) }]);
    const frames = await concierge.db.selectFrom('rejectedFrames').selectAll().where('chargerId', '=', id).execute();
    expect(frames).toEqual([expect.objectContaining({ method: 'StatusNotification', messageId: answer[1], payload: sent, salvaged: true, reason: expect.stringContaining('errorCode') })]);

    // A rejected call with nothing to salvage is kept too, and nothing else happens.
    expect((await charger.call('StatusNotification', { connectorId: 'one', status: 7 }))[0]).toBe(4);
    await eventually(async () => (await concierge.db.selectFrom('rejectedFrames').select('salvaged').where('chargerId', '=', id).execute()).length === 2);
    expect((await api().get(`/api/incidents?chargerId=${id}`)).body.incidents).toHaveLength(1);
    expect(charger.isOpen).toBe(true);
    await charger.close();
  });

  it('moves an incident through acknowledge and resolve; a malformed body is 400, wrong state is 409, a venue is 403', async () => {
    const id = await registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await charger.call('StatusNotification', { connectorId: 2, errorCode: 'PowerSwitchFailure', status: 'Faulted' });
    await charger.close();
    const incidentId = await eventually(async () => (await api().get(`/api/incidents?chargerId=${id}`)).body.incidents[0]?.id as string | undefined);

    const venue = concierge.as(await issueToken(concierge.db, 'venue', 'Hotel Alpina'));
    // A venue sees only its own sites' incidents: this one is not there for it.
    const refused = await venue.post(`/api/incidents/${incidentId}/acknowledge`, {});
    expect(refused.status).toBe(404);
    expect(refused.contentType).toBe('application/problem+json');

    // A body that is not JSON, or not the step's shape: 400 with the reason, and no step taken.
    const malformed = await fetch(`${concierge.url}/api/incidents/${incidentId}/acknowledge`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"note": "on it"' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    expect(((await malformed.json()) as { detail: string }).detail).toMatch(/malformed JSON|not valid JSON/i);
    const wrongShape = await api().post(`/api/incidents/${incidentId}/acknowledge`, { note: 42 });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.errors).toEqual([{ path: 'note', message: expect.any(String) }]);
    expect((await api().get(`/api/incidents/${incidentId}`)).body.status).not.toBe('acknowledged');

    const acknowledged = await api().post(`/api/incidents/${incidentId}/acknowledge`, { note: 'on it' });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body).toMatchObject({ status: 'acknowledged', sla: { responseBreached: false } });
    expect(acknowledged.body.steps.map((s: { step: string }) => s.step)).toEqual(['task-created', 'acknowledged']);
    expect(acknowledged.body.steps[1]).toMatchObject({ actor: 'admin', actorRole: 'account-manager', note: 'on it' });

    const twice = await api().post(`/api/incidents/${incidentId}/acknowledge`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toBe('the incident is already acknowledged');

    const resolved = await api().post(`/api/incidents/${incidentId}/resolve`);
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', sla: { fixBreached: false } });
    expect((await api().get(`/api/incidents?chargerId=${id}&status=resolved`)).body.incidents).toHaveLength(1);
    expect((await api().get(`/api/incidents?chargerId=${id}&status=opened`)).body.incidents).toHaveLength(0);
    expect((await api().post(`/api/incidents/${incidentId}/resolve`)).status).toBe(409);

    // A cancelled incident's workflow ends: a step on it is 409 once the workflow is gone, too.
    const other = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await other.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    await other.close();
    const cancelledId = await eventually(async () => ((await api().get(`/api/incidents?chargerId=${id}`)).body.incidents as { id: string; connectorId: number }[]).find((i) => i.connectorId === 1)?.id);
    expect((await api().post(`/api/incidents/${cancelledId}/cancel`, { reason: 'false alarm' })).status).toBe(200);
    const afterEnd = await eventually(async () => {
      const response = await api().post(`/api/incidents/${cancelledId}/acknowledge`, {});
      expect(response.status).toBe(409);
      expect(response.contentType).toBe('application/problem+json');
      return response.body.detail === 'cannot acknowledge an incident that is cancelled and closed' ? response : null;
    }, 10_000, 'the step refused by a workflow that has ended');
    expect(afterEnd.status).toBe(409);
    expect((await api().get('/api/incidents?status=closed')).status).toBe(400);
    expect((await api().get('/api/incidents/not-a-uuid')).status).toBe(400);
    expect((await api().get('/api/incidents/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('keeps incidents across a restart on the same DATA_DIR, and their timers still run', async () => {
    const id = await registerCharger();
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'OverCurrentFailure', status: 'Faulted' });
    const incidentId = await eventually(async () => (await api().get(`/api/incidents?chargerId=${id}`)).body.incidents[0]?.id as string | undefined);
    await charger.close();

    const electricalBefore = (await api().get(`/api/incidents?chargerId=${covered.garage}`)).body.incidents[0];
    // The account manager lengthens P1's response time while Concierge is down: a new version.
    const slower = { ...agreement, sla: { ...harbour.sla, targets: { ...harbour.sla.targets, P1: { respondWithin: '2h', fixWithin: '24h', calendar: 'always' } } } };
    await concierge.restart({ whileStopped: () => concierge.writeAgreement('harbour', slower) });

    // The running incident keeps the version it started under; a new one gets the new terms.
    const electricalAfter = (await api().get(`/api/incidents/${electricalBefore.id}`)).body;
    expect(electricalAfter).toMatchObject({ agreement: { id: 'harbour-estates', version: 1 }, sla: { respondBy: electricalBefore.sla.respondBy, fixBy: electricalBefore.sla.fixBy } });
    const garage = await RawCharger.connect(concierge.ws, covered.garage, CHARGER_PASSWORD);
    await garage.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted' });
    const second = await eventually(async () => (await api().get(`/api/incidents?chargerId=${covered.garage}`)).body.incidents.find((i: { connectorId: number }) => i.connectorId === 2), 5_000, 'incident under v2');
    expect(second.agreement).toMatchObject({ id: 'harbour-estates', version: 2 });
    expect(Date.parse(second.sla.respondBy) - Date.parse(second.sla.response.startedAt)).toBe(2 * 3_600_000);
    await garage.close();

    const after = await api().get(`/api/incidents/${incidentId}`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: 'opened', chargerId: id });
    // The 4 s response timer was started before the restart; it fires after it.
    const breached = await eventually(async () => {
      const { body } = await api().get(`/api/incidents/${incidentId}`);
      return body.sla.responseBreached ? body : undefined;
    }, 15_000, 'the response breach');
    expect(breached.steps.map((s: { step: string }) => s.step)).toEqual(['task-created', 'response-breached']);
    expect(breached.steps[1]).toMatchObject({ actor: 'system', actorRole: 'system' });
  });
});
