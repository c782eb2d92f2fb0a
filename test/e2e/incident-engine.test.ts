import { describe, expect, it } from 'vitest';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import greenmart from '../../contracts/agreements/greenmart-retail.js';
import { ADMIN_TOKEN, CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { RawCharger, type Frame } from '../../simulator/raw-charger.js';

/**
 * The incident engine end to end, with real chargers on the wire: a remote reset that fixes the
 * charger, one that does not (→ a task for the field crew, claimed and completed through the
 * inbox), a recurrence during verification, driver reports, and venues and technicians that see
 * only their own agreements' incidents. Agreement durations are shortened to seconds.
 */
describe('incident engine end to end', () => {
  const hotel = { a: uniqueId('AL'), b: uniqueId('AL'), c: uniqueId('AL'), d: uniqueId('AL'), e: uniqueId('AL'), f: uniqueId('AL'), g: uniqueId('AL'), h: uniqueId('AL') };
  const shop = uniqueId('GM');
  const [alpinaSite] = alpina.sites;
  const [shopSite] = greenmart.sites;
  const fast = { remoteFixWait: '2s', flappingWindow: '2s' };
  const concierge = useTestApp({
    name: 'engine',
    agreements: {
      alpina: {
        ...alpina,
        sites: [{ ...alpinaSite!, chargers: Object.values(hotel).map((id) => ({ id, model: 'Alfen Eve Single S-line', connectors: 1 })) }],
        incidents: { ...alpina.incidents, ...fast },
        sla: { ...alpina.sla, verificationWindow: '3s', targets: { ...alpina.sla.targets, P2: { respondWithin: '2h', fixWithin: '24h', calendar: 'always' } } },
      },
      greenmart: { ...greenmart, sites: [{ ...shopSite!, chargers: [{ id: shop, model: 'Wallbox Commander 2', connectors: 1 }] }] },
    },
    chargers: [...Object.values(hotel), shop],
    captureHistoriesAs: 'incident-engine',
  });
  const admin = () => concierge.admin;

  async function connect(id: string) {
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await charger.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve Single S-line' });
    return charger;
  }

  const incidentOn = (chargerId: string, client = admin()) =>
    eventually(async () => (await client.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents?.[0], 15_000, `the incident on ${chargerId}`);
  const incident = async (id: string, client = admin()) => (await client.get(`/api/incidents/${id}`)).body;
  const until = (id: string, check: (i: { status: string; priority: string }) => boolean, what: string) =>
    eventually(async () => {
      const body = await incident(id);
      return check(body) ? body : null;
    }, 20_000, what);
  /** Answers the Reset the gateway sends, and then reports the connector's status. */
  async function answerReset(charger: RawCharger, recovered: boolean): Promise<Frame> {
    const call = await charger.nextFrame(15_000);
    expect(call[2]).toBe('Reset');
    charger.answer(call, { status: 'Accepted' });
    if (recovered) await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    return call;
  }

  it('a remote soft reset fixes the fault and the incident closes after verification, without a dispatch', async () => {
    const charger = await connect(hotel.a);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'InternalError', status: 'Faulted' });
    const reset = await answerReset(charger, true);
    expect(reset[3]).toEqual({ type: 'Soft' });
    const opened = await incidentOn(hotel.a);
    expect(opened).toMatchObject({ priority: 'P2', agreement: { id: 'hotel-alpina', faultClass: 'controller' }, site: { id: 'alpina-kitzbuehel' } });
    const closed = await until(opened.id, (i) => i.status === 'resolved', 'resolution after verification');
    expect(closed).toMatchObject({ outcome: 'verified', sla: { fixBreached: false, responseBreached: false } });
    const steps = closed.steps.map((s: { step: string }) => s.step).filter((s: string) => s !== 'charger-status');
    expect(steps).toEqual(['remote-fix-started', 'remote-fix-attempt', 'remote-fix-result', 'verification-started', 'resolved']);
    expect(closed.steps.find((s: { step: string }) => s.step === 'remote-fix-attempt').data).toEqual({ kind: 'soft', answer: 'Accepted' });
    expect(await concierge.db.selectFrom('tasks').select('id').where('incidentId', '=', opened.id).execute()).toEqual([]);
    // The timeline interleaves faults and steps in order.
    expect(closed.timeline[0]).toMatchObject({ kind: 'fault', what: 'InternalError' });
    expect(closed.timeline.map((e: { at: string }) => e.at)).toEqual([...closed.timeline.map((e: { at: string }) => e.at)].sort());
    await charger.close();
  });

  it('when neither reset helps, the field crew gets a task: claimed and completed through the inbox; a recurrence reopens it as cycle 2', async () => {
    const charger = await connect(hotel.b);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'InternalError', status: 'Faulted' });
    expect((await answerReset(charger, false))[3]).toEqual({ type: 'Soft' });
    expect((await answerReset(charger, false))[3]).toEqual({ type: 'Hard' });
    const opened = await incidentOn(hotel.b);
    const technician = await admin().post('/api/tokens', { role: 'technician', name: 'Tom Technician', scope: { agreements: ['hotel-alpina'] } });
    expect(technician.status).toBe(201);
    const tom = concierge.as(technician.body.token);
    const task = await eventually(async () => (await tom.get('/api/tasks?view=unassigned')).body.tasks.find((t: { incidentId: string }) => t.incidentId === opened.id), 15_000, 'the dispatch task');
    expect(task).toMatchObject({ status: 'open', chargerId: hotel.b, site: { name: 'Hotel Alpina, guest car park' }, priority: 'P2' });
    expect(task.checklist.length).toBeGreaterThan(0);
    expect(Date.parse(task.dueAt)).toBeGreaterThan(Date.now());

    expect((await tom.post(`/api/tasks/${task.id}/claim`)).body).toMatchObject({ status: 'claimed', assignee: { id: technician.body.id, name: 'Tom Technician' } });
    expect((await tom.get('/api/tasks?view=mine')).body.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
    // The incident shows its task as the inbox does.
    expect((await incident(opened.id)).tasks).toEqual([expect.objectContaining({ id: task.id, status: 'claimed', assignee: { id: technician.body.id, name: 'Tom Technician' } })]);
    expect((await tom.post(`/api/incidents/${opened.id}/arrive`, { note: 'on site' })).status).toBe(200);
    expect((await tom.post(`/api/incidents/${opened.id}/diagnose`, { rootCause: 'hardware', evidence: 'controller board LED code 7' })).status).toBe(200);
    const notUploaded = await tom.post(`/api/tasks/${task.id}/complete`, { photos: [{ name: 'big.jpg', contentType: 'image/jpeg', sizeBytes: 50_000_000 }] });
    expect(notUploaded.status).toBe(400);
    expect(JSON.stringify(notUploaded.body)).toContain('referenced by upload id');
    const answered = Object.fromEntries((task.checklist as string[]).map((item) => [item, true]));
    const [firstItem] = task.checklist as string[];
    const halfAnswered = await tom.post(`/api/tasks/${task.id}/complete`, { checklist: { [firstItem!]: true } });
    expect(halfAnswered.status).toBe(400);
    expect(halfAnswered.body.detail).toContain('unanswered');
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }); // the new board boots
    await eventually(async () => (await incident(opened.id)).steps.some((s: { step: string; data: { status?: string } | null }) => s.step === 'charger-status' && s.data?.status === 'Available'), 10_000, 'the Available report');
    const done = await tom.post(`/api/tasks/${task.id}/complete`, { partsUsed: ['controller board'], checklist: answered, note: 'replaced board' });
    expect(done.body).toMatchObject({ status: 'done' });
    expect((await incident(opened.id)).verification).toMatchObject({ startedAt: expect.any(String) });

    // The fault comes back during verification: the same incident, fixing again, cycle 2.
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'InternalError', status: 'Faulted' });
    const again = await until(opened.id, (i) => i.status === 'dispatched', 'the recurrence');
    expect(again.sla).toMatchObject({ cycle: 2, fix: { cycle: 2, running: true } });
    expect((await tom.get('/api/tasks?view=mine')).body.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
    // Completed while it still reports Faulted: verification waits for the Available that follows.
    await tom.post(`/api/tasks/${task.id}/complete`, { note: 'reseated the connector cable too', checklist: answered });
    expect((await incident(opened.id)).steps.at(-1).step).toBe('verification-waiting');
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    const resolved = await until(opened.id, (i) => i.status === 'resolved', 'resolution');
    expect(resolved).toMatchObject({ outcome: 'verified', rootCause: { cause: 'hardware' }, assignee: { name: 'Tom Technician' } });
    expect((await tom.get('/api/tasks?view=done')).body.tasks.map((t: { id: string }) => t.id)).toContain(task.id);
    await charger.close();
  });

  it('a charger that is already offline goes straight to dispatch', async () => {
    const charger = await connect(hotel.d);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'InternalError', status: 'Faulted' });
    await charger.close();
    const opened = await incidentOn(hotel.d);
    const dispatched = await eventually(async () => {
      const body = await incident(opened.id);
      return body.steps.some((s: { step: string }) => s.step === 'task-created') ? body : null;
    }, 15_000, 'the dispatch task');
    expect(dispatched.steps.find((s: { step: string }) => s.step === 'remote-fix-attempt').data).toEqual({ kind: 'soft', answer: 'ChargerOffline' });
    expect(dispatched.status).toBe('opened');
  });

  it('a completed charging session during verification proves the fix at once', async () => {
    const charger = await connect(hotel.e);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const opened = await incidentOn(hotel.e);
    expect((await admin().post(`/api/incidents/${opened.id}/fix`, { note: 'reset the RCD on site', partsUsed: [] })).body.status).toBe('verifying');
    const [, , started] = await charger.call('StartTransaction', { connectorId: 1, idTag: 'GUEST-1', meterStart: 100, timestamp: new Date().toISOString() });
    const { transactionId } = started as { transactionId: number };
    await charger.call('StopTransaction', { transactionId, meterStop: 2_100, timestamp: new Date().toISOString(), reason: 'EVDisconnected' });
    const resolved = await until(opened.id, (i) => i.status === 'resolved', 'resolution by the session');
    expect(resolved.outcome).toBe('session-completed');
    await charger.close();
  });

  it('takes photos as uploads: real images only, at most 10 MB, kept with the incident and attached to the fix', async () => {
    const charger = await connect(hotel.f);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const opened = await incidentOn(hotel.f);
    const upload = (bytes: Uint8Array, name: string, type: string) => {
      const form = new FormData();
      form.append('photo', new Blob([bytes], { type }), name);
      return fetch(`${concierge.url}/api/incidents/${opened.id}/photos`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    };
    // A 1×1 PNG.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
    const stored = await upload(png, 'rcd-after.png', 'image/png');
    expect(stored.status).toBe(201);
    const photo = (await stored.json()) as { id: string; contentType: string; sizeBytes: number };
    expect(photo).toMatchObject({ contentType: 'image/png', sizeBytes: png.length });
    const back = await fetch(`${concierge.url}/api/incidents/${opened.id}/photos/${photo.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(back.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await back.arrayBuffer()).equals(png)).toBe(true);

    const fake = await upload(Buffer.from('MZ this is not a picture'), 'photo.jpg', 'image/jpeg');
    expect(fake.status).toBe(400);
    expect(((await fake.json()) as { detail: string }).detail).toContain('not an image of an accepted type');
    const huge = await upload(new Uint8Array(11 * 1024 * 1024), 'huge.jpg', 'image/jpeg');
    expect(huge.status).toBe(413);
    expect(await concierge.db.selectFrom('attachments').select('id').where('incidentId', '=', opened.id).execute()).toHaveLength(1);

    const unknownPhoto = await admin().post(`/api/incidents/${opened.id}/fix`, { photoIds: ['00000000-0000-4000-8000-000000000000'] });
    expect(unknownPhoto.status).toBe(400);
    const fixed = await admin().post(`/api/incidents/${opened.id}/fix`, { photoIds: [photo.id], note: 'RCD replaced' });
    expect(fixed.status).toBe(200);
    expect(fixed.body.steps.find((s: { step: string }) => s.step === 'fixed').data.photos).toEqual([{ id: photo.id, name: 'rcd-after.png', contentType: 'image/png', sizeBytes: png.length }]);
    await charger.close();
  });

  it('venues see only their own sites and technicians only the agreements they serve, across two agreements', async () => {
    const hotelCharger = await connect(hotel.c);
    const shopCharger = await connect(shop);
    await hotelCharger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    await shopCharger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const hotelIncident = await incidentOn(hotel.c);
    const shopIncident = await incidentOn(shop);
    expect(shopIncident.agreement.id).toBe('greenmart-retail');

    const venueToken = await admin().post('/api/tokens', { role: 'venue', name: 'Hotel Alpina front desk', scope: { sites: ['alpina-kitzbuehel'] } });
    const venue = concierge.as(venueToken.body.token);
    expect((await venue.get(`/api/incidents/${hotelIncident.id}`)).status).toBe(200);
    const hidden = await venue.get(`/api/incidents/${shopIncident.id}`);
    expect(hidden.status).toBe(404);
    expect(hidden.contentType).toBe('application/problem+json');
    const listed = (await venue.get('/api/incidents')).body.incidents.map((i: { id: string }) => i.id);
    expect(listed).toContain(hotelIncident.id);
    expect(listed).not.toContain(shopIncident.id);
    // Seeing is not acting: a venue may not acknowledge even its own incident.
    expect((await venue.post(`/api/incidents/${hotelIncident.id}/acknowledge`)).status).toBe(403);
    // A venue token must name its sites.
    expect((await admin().post('/api/tokens', { role: 'venue', name: 'nobody' })).status).toBe(400);

    const shopTechnician = concierge.as((await admin().post('/api/tokens', { role: 'technician', name: 'Sam', scope: { agreements: ['greenmart-retail'] } })).body.token);
    expect((await shopTechnician.get(`/api/incidents/${hotelIncident.id}`)).status).toBe(404);
    expect((await shopTechnician.post(`/api/incidents/${hotelIncident.id}/acknowledge`)).status).toBe(404);
    expect((await shopTechnician.post(`/api/incidents/${shopIncident.id}/acknowledge`)).status).toBe(200);
    const tasks = (await shopTechnician.get('/api/tasks?view=unassigned')).body.tasks;
    expect(tasks.every((t: { chargerId: string }) => t.chargerId === shop)).toBe(true);
    // Chargers outside a token's scope are not there either: no reading, no commands, no reports.
    expect((await venue.get(`/api/chargers/${shop}`)).status).toBe(404);
    expect((await venue.get(`/api/chargers/${hotel.c}`)).status).toBe(200);
    expect((await shopTechnician.post(`/api/chargers/${hotel.c}/commands/Reset`, { type: 'Soft' })).status).toBe(404);
    expect((await shopTechnician.post('/api/incidents', { chargerId: hotel.c, connectorId: 1, description: 'not mine', reporter: { name: 'Sam' } })).status).toBe(404);
    // A scoped account manager issues tokens within its own scope only.
    const scopedManager = concierge.as((await admin().post('/api/tokens', { role: 'account-manager', name: 'GreenMart AM', scope: { agreements: ['greenmart-retail'] } })).body.token);
    expect((await scopedManager.post('/api/tokens', { role: 'technician', name: 'escape' })).status).toBe(403);
    expect((await scopedManager.post('/api/tokens', { role: 'technician', name: 'wide', scope: { agreements: ['greenmart-retail', 'hotel-alpina'] } })).status).toBe(403);
    expect((await scopedManager.post('/api/tokens', { role: 'technician', name: 'fine', scope: { agreements: ['greenmart-retail'] } })).status).toBe(201);
    await hotelCharger.close();
    await shopCharger.close();
  });

  it('a driver’s hotline report opens an incident with the reporter; a second report on the same connector joins it', async () => {
    const dispatcher = concierge.as((await admin().post('/api/tokens', { role: 'dispatcher', name: 'Dana' })).body.token);
    const reported = await dispatcher.post('/api/incidents', { chargerId: shop, connectorId: 2, description: 'Cable will not unlock after charging', reporter: { name: 'Driver Jane', contact: '+44 7700 900123' } });
    expect(reported.status).toBe(202);
    const opened = await eventually(async () => (await incident(reported.body.incidentId)).id, 10_000, 'the reported incident');
    expect(opened).toBe(reported.body.incidentId);
    const again = await dispatcher.post('/api/incidents', { chargerId: shop, connectorId: 2, description: 'Still stuck', reporter: { name: 'Driver Joe', contact: null } });
    expect(again.body.incidentId).toBe(reported.body.incidentId);
    const body = await eventually(async () => {
      const i = await incident(reported.body.incidentId);
      return i.faults.length === 2 ? i : null;
    }, 10_000, 'both reports');
    expect(body).toMatchObject({ source: 'driver-report', report: { reporter: { name: 'Driver Jane' } }, faults: [{ errorCode: 'DriverReport' }, { errorCode: 'DriverReport', info: 'Still stuck' }] });
    const refused = await dispatcher.post('/api/incidents', { chargerId: shop, connectorId: 2, description: 'x', reporter: { name: '' } });
    expect(refused.status).toBe(400);
  });

  it('a charger’s electrical fault (P2) joining a driver’s report (P3) raises the incident to P2 with P2’s deadlines from then, on the timeline', async () => {
    const dispatcher = concierge.as((await admin().post('/api/tokens', { role: 'dispatcher', name: 'Dana' })).body.token);
    const reported = await dispatcher.post('/api/incidents', { chargerId: hotel.g, connectorId: 1, description: 'Screen says error', reporter: { name: 'Driver Jane', contact: null } });
    expect(reported.status).toBe(202);
    const opened = await eventually(async () => (await incident(reported.body.incidentId)).id && (await incident(reported.body.incidentId)), 10_000, 'the reported incident');
    expect(opened).toMatchObject({ priority: 'P3', agreement: { faultClass: 'driver-report' } });
    const charger = await connect(hotel.g);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const raised = await until(reported.body.incidentId, (i) => i.priority === 'P2', 'the raise to P2');
    const entry = raised.steps.find((s: { step: string }) => s.step === 'priority-raised');
    expect(entry.data).toMatchObject({ from: 'P3', to: 'P2', faultClass: 'electrical', fault: 'GroundFailure' });
    // P2 here: respond within 2 h, fix within 24 h, always open — counted from the raise.
    expect(Date.parse(raised.sla.fixBy) - Date.parse(entry.at)).toBe(24 * 3_600_000);
    expect(Date.parse(raised.sla.respondBy) - Date.parse(entry.at)).toBe(2 * 3_600_000);
    await charger.close();
  });

  it('an outage diagnosed as a utility failure is excluded from the port’s uptime, traced to its incident', async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const charger = await connect(hotel.h);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const opened = await incidentOn(hotel.h);
    const technician = (await admin().post('/api/tokens', { role: 'technician', name: 'Ute Utility', scope: { agreements: ['hotel-alpina'] } })).body;
    const ute = concierge.as(technician.token);
    const task = await eventually(async () => (await ute.get('/api/tasks?view=unassigned')).body.tasks.find((t: { incidentId: string }) => t.incidentId === opened.id), 15_000, 'the dispatch task');
    await ute.post(`/api/tasks/${task.id}/claim`);
    expect((await ute.post(`/api/incidents/${opened.id}/diagnose`, { rootCause: 'utility', evidence: 'grid operator outage notice 4711' })).status).toBe(200);
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await charger.close();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    await eventually(async () => (await admin().get(`/api/chargers/${hotel.h}`)).body.connectors?.find((c: { connectorId: number }) => c.connectorId === 1)?.status === 'Available', 10_000, 'the Available on record');
    const uptime = (await admin().get(`/api/chargers/${hotel.h}/uptime?connector=1&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).body;
    expect(uptime.outages).toHaveLength(1);
    expect(Date.parse(uptime.outages[0].end)).toBeLessThan(Date.parse(uptime.measuredUntil));
    expect(uptime.outages[0]).toMatchObject({ cause: 'utility', incidentId: opened.id, excluded: true, overCap: false });
    expect(uptime.outageMinutes).toBeGreaterThan(0);
    expect(uptime.excludedMinutes).toBe(uptime.outageMinutes);
    expect(uptime.uptimePercent).toBe(100);
  });
});

