import { Client, Connection } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { issueToken } from '../../api/auth.js';
import { incidentWorkflowId, type IncidentInput } from '../../contracts/incident.js';
import { faultReported } from '../../workflows/incident/messages.js';
import { incidentWorkflow } from '../../workflows/incident/workflow.js';
import { ADMIN_TOKEN, apiClient, CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';
import { RawCharger } from '../../simulator/raw-charger.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

/**
 * What a careless or hostile API client can send: text the database cannot store, bodies without
 * end, ids of another tenant's chargers. Each is refused with a clear answer and changes nothing.
 */
describe.each(databaseKinds)('API boundaries on %s', (kind) => {
  const concierge = useTestApp({ name: 'boundaries', database: kind });
  const admin = () => concierge.admin;
  const registerCharger = () => concierge.registerCharger();

  /** A driver's report on a new charger; resolves once its incident can be read. */
  async function openIncident(description: string) {
    const chargerId = await registerCharger();
    const reported = await admin().post('/api/incidents', { chargerId, connectorId: 1, description, reporter: { name: 'Driver' } });
    expect(reported.status).toBe(202);
    const id = reported.body.incidentId as string;
    await eventually(async () => (await admin().get(`/api/incidents/${id}`)).status === 200, 10_000, 'the incident');
    return id;
  }

  /** Uploads a small PNG to an incident under the given file name. */
  function uploadPhoto(incidentId: string, fileName: string) {
    const form = new FormData();
    form.append('photo', new Blob([PNG], { type: 'image/png' }), fileName);
    return fetch(`${concierge.url}/api/incidents/${incidentId}/photos`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
  }

  it('says what to send instead: malformed JSON, a body of another type, a field left out', async () => {
    const send = async (body: string, headers: Record<string, string>, path = '/api/chargers') => {
      const response = await fetch(`${concierge.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers }, body });
      return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as { title: string; detail: string; errors?: unknown[] } };
    };
    const malformed = await send('{"id":', { 'content-type': 'application/json' });
    expect(malformed).toMatchObject({ status: 400, type: 'application/problem+json', body: { title: 'Bad Request', detail: expect.stringContaining('not valid JSON'), errors: [{ path: 'body', message: 'not valid JSON' }] } });
    const untyped = await send('{"id":"CP-1"}', {});
    expect(untyped).toMatchObject({ status: 415, body: { title: 'Unsupported Media Type', detail: 'this route takes JSON with the header Content-Type: application/json' } });
    const incomplete = await send(JSON.stringify({ id: 'CP-1' }), { 'content-type': 'application/json' });
    expect(incomplete.status).toBe(400);
    expect(incomplete.body.detail).toBe("the request's body is not as this route takes it: password: required (string)");
    expect(incomplete.body.errors).toEqual([{ path: 'password', message: 'required (string)' }]);
  });

  /** POSTs raw JSON text, so lone surrogates travel as the escapes a client would send. */
  async function postRaw(route: string, json: string, token = ADMIN_TOKEN) {
    const response = await fetch(`${concierge.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: json });
    return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as { detail: string; errors?: Array<{ path: string; message: string }> } };
  }

  describe('text the database cannot store', () => {
    it('refuses a report whose description holds U+0000, naming the field, and opens nothing', async () => {
      const chargerId = await registerCharger();
      const answer = await admin().post('/api/incidents', { chargerId, connectorId: 1, description: 'cable\u0000cut', reporter: { name: 'Driver' } });
      expect(answer.status).toBe(400);
      expect(answer.contentType).toBe('application/problem+json');
      expect(answer.body.errors).toEqual([{ path: 'description', message: expect.stringContaining('U+0000') }]);
      expect((await admin().get(`/api/incidents?chargerId=${chargerId}`)).body.incidents).toEqual([]);
    });

    it('refuses lone surrogates anywhere in a JSON body, every one by its path', async () => {
      const chargerId = await registerCharger();
      const answer = await postRaw('/api/incidents', `{"chargerId":"${chargerId}","connectorId":1,"description":"bad \\ud800 text","reporter":{"name":"x\\udc00y"}}`);
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([
        { path: 'description', message: expect.stringContaining('U+D800') },
        { path: 'reporter.name', message: expect.stringContaining('U+DC00') },
      ]);
      // A surrogate pair is a character like any other (U+1F50C, electric plug).
      expect((await postRaw('/api/incidents', `{"chargerId":"${chargerId}","connectorId":1,"description":"plug \\ud83d\\udd0c broken","reporter":{"name":"Driver"}}`)).status).toBe(202);
    });

    it('refuses a step note with U+0000 at once, and the incident takes its next step', async () => {
      const id = await openIncident('screen dark');
      const refused = await admin().post(`/api/incidents/${id}/acknowledge`, { note: 'on\u0000it' });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([{ path: 'note', message: expect.stringContaining('U+0000') }]);
      const acknowledged = await admin().post(`/api/incidents/${id}/acknowledge`, { note: 'on it' });
      expect(acknowledged.status).toBe(200);
      expect(acknowledged.body.status).toBe('acknowledged');
      const acknowledgements = acknowledged.body.steps.filter((s: { step: string }) => s.step === 'acknowledged');
      expect(acknowledgements.map((s: { note: string }) => s.note)).toEqual(['on it']);
    });

    it('refuses U+0000 in a query parameter or a path segment with 400, not a database error', async () => {
      const query = await admin().get('/api/incidents?chargerId=CP%00X');
      expect(query.status).toBe(400);
      expect(query.body.errors).toEqual([{ path: 'chargerId', message: expect.stringContaining('U+0000') }]);
      // A charger id is letters, digits, dots, dashes and underscores: the rule refuses it first.
      const segment = await admin().get('/api/chargers/CP%00X');
      expect(segment.status).toBe(400);
      expect(segment.body.errors).toEqual([{ path: 'id', message: expect.any(String) }]);
    });

    it('refuses a photo whose file name holds U+0000', async () => {
      const response = await uploadPhoto(await openIncident('broken latch'), 'latch\u0000.png');
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: unknown }).errors).toEqual([{ path: 'photo.filename', message: expect.stringContaining('U+0000') }]);
    });

    it('cuts a long report or file name to its length without splitting a character in two', async () => {
      // The cut (500 characters of a report's fault info, 200 of a file name) falls between the two halves of an emoji.
      const id = await openIncident(`${'x'.repeat(499)}🔌 and more`);
      const incident = (await admin().get(`/api/incidents/${id}`)).body;
      expect(incident.degraded).toBeNull();
      expect(incident.faults[0].info).toBe(`${'x'.repeat(499)}\uFFFD`);
      const uploaded = await uploadPhoto(id, `${'p'.repeat(199)}🔌.png`);
      expect(uploaded.status).toBe(201);
      expect(((await uploaded.json()) as { name: string }).name).toBe(`${'p'.repeat(199)}\uFFFD`);
    });
  });

  describe('a step sent again', () => {
    it('is taken once when it carries the same Idempotency-Key: the retry gets the first answer, not 409', async () => {
      const id = await openIncident('no display');
      const acknowledge = () =>
        fetch(`${concierge.url}/api/incidents/${id}/acknowledge`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'idempotency-key': 'retry-1' }, body: JSON.stringify({ note: 'on it' }) });
      expect((await acknowledge()).status).toBe(200);
      expect((await acknowledge()).status).toBe(200);
      // Without the key a second acknowledgement is refused: the incident is already acknowledged.
      expect((await admin().post(`/api/incidents/${id}/acknowledge`, { note: 'again' })).status).toBe(409);
      const steps = (await admin().get(`/api/incidents/${id}`)).body.steps.filter((s: { step: string }) => s.step === 'acknowledged');
      expect(steps).toHaveLength(1);
    });
  });

  describe('bodies are bounded before they are read', () => {
    it('answers 413 problem+json to a JSON body over 1 MB, from the lowest-privilege token, declared or chunked', async () => {
      const venue = await issueToken(concierge.db, 'venue', 'Front desk', { sites: ['alpina-kitzbuehel'] });
      const big = JSON.stringify({ chargerId: 'CP-1', connectorId: 1, description: 'x'.repeat(2 * 1024 * 1024), reporter: { name: 'x' } });
      const declared = await fetch(`${concierge.url}/api/incidents`, { method: 'POST', headers: { authorization: `Bearer ${venue}`, 'content-type': 'application/json' }, body: big });
      expect(declared.status).toBe(413);
      expect(declared.headers.get('content-type')).toBe('application/problem+json');
      expect(((await declared.json()) as { detail: string }).detail).toContain('1048576 bytes');
      // No content-length: the body arrives in chunks and is cut off once past the limit.
      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(64 * 1024)));
          controller.close();
        },
      });
      const chunked = await fetch(`${concierge.url}/api/incidents`, { method: 'POST', headers: { authorization: `Bearer ${venue}`, 'content-type': 'application/json' }, body: chunks, duplex: 'half' } as RequestInit);
      expect(chunked.status).toBe(413);
    });
  });

  describe('tenants stay apart', () => {
    let alpinaDispatcher: ReturnType<typeof apiClient>;

    beforeAll(async () => {
      alpinaDispatcher = concierge.as((await admin().post('/api/tokens', { role: 'dispatcher', name: 'Alpina desk', scope: { agreements: ['hotel-alpina'] } })).body.token);
    });

    it('lets a scoped dispatcher register only chargers its agreements list; another tenant’s id is answered like an unknown one', async () => {
      const foreign = await alpinaDispatcher.post('/api/chargers', { id: 'GM-LDS-01', password: CHARGER_PASSWORD });
      const unknown = await alpinaDispatcher.post('/api/chargers', { id: 'NOBODY-01', password: CHARGER_PASSWORD });
      expect([foreign.status, unknown.status]).toEqual([404, 404]);
      expect(foreign.body.detail.replace('GM-LDS-01', 'ID')).toBe(unknown.body.detail.replace('NOBODY-01', 'ID'));
      expect((await admin().get('/api/chargers/GM-LDS-01')).status).toBe(404); // nothing was registered
      expect((await alpinaDispatcher.post('/api/chargers', { id: 'ALPINA-01', password: CHARGER_PASSWORD })).status).toBe(201);
      expect((await alpinaDispatcher.post('/api/chargers', { id: 'ALPINA-01', password: CHARGER_PASSWORD })).status).toBe(409);
    });

    it('hides another tenant’s registered charger from a scoped dispatcher: show, commission, command and re-register all answer as for none', async () => {
      expect((await admin().post('/api/chargers', { id: 'GM-LDS-02', password: CHARGER_PASSWORD, commissioned: false })).status).toBe(201);
      expect((await alpinaDispatcher.get('/api/chargers/GM-LDS-02')).status).toBe(404);
      expect((await alpinaDispatcher.post('/api/chargers/GM-LDS-02/commission')).status).toBe(404);
      expect((await alpinaDispatcher.post('/api/chargers/GM-LDS-02/commands/Reset', { type: 'Soft' })).status).toBe(404);
      expect((await alpinaDispatcher.post('/api/chargers', { id: 'GM-LDS-02', password: 'another-password-123' })).status).toBe(404);
      expect((await admin().get('/api/chargers/GM-LDS-02')).body.state).toBe('pending');
      // A venue sees its own site's chargers only, and registers none.
      const alpinaVenue = concierge.as(await issueToken(concierge.db, 'venue', 'Alpina reception', { sites: ['alpina-kitzbuehel'] }));
      expect((await alpinaVenue.get('/api/chargers/GM-LDS-02')).status).toBe(404);
      expect((await alpinaVenue.get('/api/chargers/ALPINA-01')).status).toBe(200);
      expect((await alpinaVenue.post('/api/chargers', { id: 'ALPINA-02', password: CHARGER_PASSWORD })).status).toBe(403);
    });

    it('registers a charger at the site of the agreement covering it, says which agreement and site that is, and lists chargers within the caller’s scope', async () => {
      const wrongSite = await admin().post('/api/chargers', { id: 'ALPINA-03', password: CHARGER_PASSWORD, siteId: 'greenmart-leeds' });
      expect(wrongSite.status).toBe(400);
      expect(wrongSite.body.errors).toEqual([{ path: 'siteId', message: expect.stringContaining('covered by agreement hotel-alpina at site alpina-kitzbuehel') }]);
      const uncovered = await admin().post('/api/chargers', { id: uniqueId('CP'), password: CHARGER_PASSWORD, siteId: 'greenmart-leeds' });
      expect(uncovered.body.errors).toEqual([{ path: 'siteId', message: expect.stringContaining('belongs to agreement greenmart-retail, which does not list charger') }]);
      const registered = await admin().post('/api/chargers', { id: 'ALPINA-03', password: CHARGER_PASSWORD });
      expect(registered.status).toBe(201);
      expect(registered.body).toMatchObject({ siteId: 'alpina-kitzbuehel', coveredBy: { agreement: 'hotel-alpina', site: 'alpina-kitzbuehel', siteName: expect.any(String) } });
      expect((await admin().get(`/api/chargers/${await registerCharger()}`)).body.coveredBy).toBeNull();

      const ids = async (client: ReturnType<typeof admin>, query = '') => (await client.get(`/api/chargers${query}`)).body.chargers.map((c: { id: string }) => c.id) as string[];
      expect(await ids(alpinaDispatcher)).toEqual(['ALPINA-01', 'ALPINA-03']);
      expect(await ids(admin(), '?agreement=greenmart-retail')).toEqual(['GM-LDS-02']);
      expect(await ids(admin(), '?site=alpina-kitzbuehel&connected=false')).toEqual(['ALPINA-01', 'ALPINA-03']);
      expect(await ids(admin(), '?site=alpina-kitzbuehel&connected=true')).toEqual([]);
      expect(await ids(alpinaDispatcher, '?agreement=greenmart-retail')).toEqual([]); // a filter never widens the scope
      const first = (await alpinaDispatcher.get('/api/chargers?limit=1')).body;
      expect(first).toMatchObject({ chargers: [{ id: 'ALPINA-01' }], next: 'ALPINA-01' });
      expect((await alpinaDispatcher.get(`/api/chargers?limit=1&after=${first.next}`)).body).toMatchObject({ chargers: [{ id: 'ALPINA-03' }], next: null });
    });

    it('filters chargers by connector status, as the charger last reported it', async () => {
      const charger = await RawCharger.connect(concierge.ws, 'ALPINA-03', CHARGER_PASSWORD);
      await charger.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve Single S-line' });
      await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Unavailable' });
      const ids = async (query: string) => (await alpinaDispatcher.get(`/api/chargers${query}`)).body.chargers.map((c: { id: string }) => c.id) as string[];
      await eventually(async () => (await ids('?status=Unavailable')).length > 0, 10_000, 'the status on record');
      expect(await ids('?status=Unavailable')).toEqual(['ALPINA-03']);
      expect(await ids('?status=Faulted')).toEqual([]);
      expect(await ids('?status=Unavailable&connected=true')).toEqual(['ALPINA-03']);
      await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
      await eventually(async () => (await ids('?status=Unavailable')).length === 0, 10_000, 'the new status on record');
      expect(await ids('?status=Available')).toEqual(['ALPINA-03']);
      await charger.close();
    });

    it('measures a port’s uptime under the covering agreement, within the caller’s scope, refusing periods that cannot be measured', async () => {
      const report = (connectorId: number, status: string, reportedAt: string) => ({ chargerId: 'ALPINA-01', connectorId, status, errorCode: null, vendorErrorCode: null, info: null, reportedAt, protocol: 'ocpp1.6', payload: '{}' });
      // Two hours down in November; November in Kitzbühel is 30 days of 1,440 minutes.
      await concierge.db.insertInto('statusLog').values([report(1, 'Available', '2026-10-20T10:00:00Z'), report(1, 'Faulted', '2026-11-02T10:00:00Z'), report(1, 'Available', '2026-11-02T12:00:00Z')]).execute();
      const november = 'from=2026-11-01T00:00:00%2B01:00&to=2026-12-01T00:00:00%2B01:00';
      const measured = await alpinaDispatcher.get(`/api/chargers/ALPINA-01/uptime?connector=1&${november}`);
      expect(measured.status).toBe(200);
      expect(measured.body).toEqual({
        chargerId: 'ALPINA-01',
        connectorId: 1,
        agreement: { id: 'hotel-alpina', version: 1 },
        from: '2026-10-31T23:00:00.000Z',
        to: '2026-11-30T23:00:00.000Z',
        measuredUntil: '2026-11-30T23:00:00.000Z',
        periodMinutes: 43_200,
        outageMinutes: 120,
        excludedMinutes: 0,
        uptimePercent: 99.72,
        outages: [{ start: '2026-11-02T10:00:00.000Z', end: '2026-11-02T12:00:00.000Z', cause: 'fault', incidentId: null, excluded: false, overCap: false }],
      });
      const alpinaVenue = concierge.as((await admin().post('/api/tokens', { role: 'venue', name: 'Alpina front desk', scope: { sites: ['alpina-kitzbuehel'] } })).body.token);
      expect((await alpinaVenue.get(`/api/chargers/ALPINA-01/uptime?connector=1&${november}`)).body.uptimePercent).toBe(99.72);
      const leedsVenue = concierge.as((await admin().post('/api/tokens', { role: 'venue', name: 'Leeds store', scope: { sites: ['greenmart-leeds'] } })).body.token);
      expect((await leedsVenue.get(`/api/chargers/ALPINA-01/uptime?connector=1&${november}`)).status).toBe(404);

      const refused = async (query: string) => {
        const answer = await alpinaDispatcher.get(`/api/chargers/ALPINA-01/uptime?${query}`);
        expect(answer.status).toBe(400);
        return answer.body.errors.map((e: { path: string; message: string }) => `${e.path}: ${e.message}`).join('; ');
      };
      expect(await refused('connector=1&from=2099-01-01T00:00:00Z&to=2099-02-01T00:00:00Z')).toMatch(/^from: .*has not come yet/);
      expect(await refused('connector=1&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z')).toMatch(/^to: must be after from/);
      expect(await refused('connector=1&from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z')).toMatch(/^to: the period may be at most 367 days/);
      expect(await refused('connector=0&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z')).toMatch(/^connector: /);
      expect(await refused('connector=1&from=yesterday&to=2026-11-02T00:00:00Z')).toMatch(/^from: /);
      const uncovered = await registerCharger();
      const notCovered = await admin().get(`/api/chargers/${uncovered}/uptime?connector=1&${november}`);
      expect(notCovered.status).toBe(409);
      expect(notCovered.body.detail).toContain('covered by no agreement in force');
    });

    it('issues tokens only for agreements and sites in force, naming each unknown one', async () => {
      const typo = await admin().post('/api/tokens', { role: 'technician', name: 'Typo', scope: { agreements: ['hotel-alpine'], sites: ['alpina-kitzbuehel', 'nowhere'] } });
      expect(typo.status).toBe(400);
      expect(typo.body.errors).toEqual([
        { path: 'scope.agreements.0', message: expect.stringContaining('no agreement "hotel-alpine" is in force') },
        { path: 'scope.sites.1', message: expect.stringContaining('no agreement in force has a site "nowhere"') },
      ]);
      expect((await admin().get('/api/tokens')).body.tokens.map((t: { name: string }) => t.name)).not.toContain('Typo');
    });

    it('revokes a token at once, by whoever may issue it and within their own scope; not the bootstrap admin token', async () => {
      const issue = async (by: ReturnType<typeof admin>, body: object) => (await by.post('/api/tokens', body)).body as { id: string; token: string };
      const alpinaManager = concierge.as((await issue(admin(), { role: 'account-manager', name: 'Alpina account manager', scope: { agreements: ['hotel-alpina'] } })).token);
      const alpinaTech = await issue(alpinaManager, { role: 'technician', name: 'Alpina tech', scope: { agreements: ['hotel-alpina'] } });
      const greenTech = await issue(admin(), { role: 'technician', name: 'GreenMart tech', scope: { agreements: ['greenmart-retail'] } });
      expect((await concierge.as(alpinaTech.token).get('/api/tasks')).status).toBe(200);

      expect((await concierge.as(alpinaTech.token).delete(`/api/tokens/${greenTech.id}`)).status).toBe(403); // a technician issues none
      expect((await alpinaManager.delete(`/api/tokens/${greenTech.id}`)).status).toBe(404); // outside its scope, like an unknown id
      expect((await alpinaManager.delete(`/api/tokens/${alpinaTech.id}`)).status).toBe(204);
      expect((await concierge.as(alpinaTech.token).get('/api/tasks')).status).toBe(401);
      expect((await alpinaManager.delete(`/api/tokens/${alpinaTech.id}`)).status).toBe(404);
      expect((await admin().get('/api/tokens')).body.tokens.map((t: { id: string }) => t.id)).not.toContain(alpinaTech.id);
      expect((await concierge.as(greenTech.token).get('/api/tasks')).status).toBe(200);

      const bootstrap = await concierge.db.selectFrom('apiTokens').select('id').where('bootstrap', '=', true).executeTakeFirstOrThrow();
      const refused = await admin().delete(`/api/tokens/${bootstrap.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toContain('CONCIERGE_ADMIN_TOKEN');
      expect((await admin().get('/api/tasks')).status).toBe(200);
    });

    it('lists to a scoped dispatcher only the token holders within its scope', async () => {
      for (const [role, name, scope] of [
        ['technician', 'Alpina tech', { agreements: ['hotel-alpina'] }],
        ['technician', 'GreenMart tech', { agreements: ['greenmart-retail'] }],
        ['venue', 'Alpina front desk', { sites: ['alpina-kitzbuehel'] }],
        ['venue', 'GreenMart Leeds', { sites: ['greenmart-leeds'] }],
        ['dispatcher', 'Everywhere desk', undefined],
      ] as const) {
        expect((await admin().post('/api/tokens', { role, name, scope })).status).toBe(201);
      }
      const seen = (await alpinaDispatcher.get('/api/tokens')).body.tokens.map((t: { name: string }) => t.name);
      expect(seen).toEqual(expect.arrayContaining(['Alpina desk', 'Alpina tech', 'Alpina front desk']));
      expect(seen).not.toEqual(expect.arrayContaining(['GreenMart tech']));
      expect(seen.filter((n: string) => ['GreenMart tech', 'GreenMart Leeds', 'Everywhere desk', 'admin'].includes(n))).toEqual([]);
      const everyone = (await admin().get('/api/tokens')).body.tokens.map((t: { name: string }) => t.name);
      expect(everyone).toEqual(expect.arrayContaining(['GreenMart tech', 'GreenMart Leeds', 'Everywhere desk', 'Alpina tech']));
    });
  });

  describe('served files and pages', () => {
    it('serves photos with nosniff and a Content-Disposition of our own, and the docs page under a Content-Security-Policy', async () => {
      const id = await openIncident('cracked housing');
      const uploaded = (await (await uploadPhoto(id, '"; evil=".png')).json()) as { id: string };
      const photo = await fetch(`${concierge.url}/api/incidents/${id}/photos/${uploaded.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(photo.status).toBe(200);
      expect(photo.headers.get('x-content-type-options')).toBe('nosniff');
      expect(photo.headers.get('content-disposition')).toBe(`inline; filename="${uploaded.id}.png"`);
      const docs = await fetch(`${concierge.url}/docs`);
      expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
    });
  });

  describe('an activity the database refuses for good', () => {
    it('does not wedge the incident: it opens degraded with the text replaced, is listed, alerts, and takes its next steps', async () => {
      const chargerId = await registerCharger();
      // Past the API's check, straight at the workflow and its projection activity, as a bug or a
      // missed boundary would: a fault and a report whose texts the database cannot store.
      const connection = await Connection.connect({ address: inject('temporalAddress') });
      try {
        const temporal = new Client({ connection });
        const input: IncidentInput = {
          chargerId,
          connectorId: 1,
          priority: 'P3',
          sla: { respondWithinMs: 3_600_000, fixWithinMs: 28_800_000 },
          agreement: null,
          source: 'driver-report',
          report: { description: 'sparks\u0000 from the plug', reporter: { name: 'Dri\ud800ver', contact: null } },
        };
        const fault = { eventId: `report:${uniqueId('r')}`, status: 'Reported', errorCode: 'DriverReport', vendorErrorCode: null, info: 'sparks\u0000', at: new Date().toISOString() };
        await temporal.workflow.signalWithStart(incidentWorkflow, { workflowId: incidentWorkflowId(chargerId, 1), taskQueue: concierge.taskQueue, args: [input], signal: faultReported, signalArgs: [fault] });
      } finally {
        await connection.close();
      }
      const listed = await eventually(async () => (await admin().get(`/api/incidents?chargerId=${chargerId}`)).body.incidents[0], 15_000, 'the incident in the list');
      expect(listed.degraded).toEqual({ since: expect.any(String), cause: expect.stringContaining('SQLSTATE') });
      expect(listed.report).toEqual({ description: 'sparks\uFFFD from the plug', reporter: { name: 'Dri\uFFFDver', contact: null } });
      expect(listed.faults).toEqual([expect.objectContaining({ errorCode: 'DriverReport', info: 'sparks\uFFFD' })]);
      expect(listed.timeline.map((e: { what: string }) => e.what)).toContain('projection-degraded');

      const metrics = await (await fetch(`${concierge.url}/metrics`)).text();
      expect(metrics).toMatch(/^concierge_incidents_degraded 1$/m);

      const acknowledged = await admin().post(`/api/incidents/${listed.id}/acknowledge`, { note: 'looking' });
      expect(acknowledged.status).toBe(200);
      expect(acknowledged.body.status).toBe('acknowledged');
      const resolved = await admin().post(`/api/incidents/${listed.id}/resolve`);
      expect(resolved.status).toBe(200);
      expect(resolved.body.status).toBe('resolved');
    });
  });
});

describe('the bootstrap admin token', () => {
  const concierge = useTestApp({ name: 'bootstrap' });

  it('is recognised by what it is: rotating CONCIERGE_ADMIN_TOKEN leaves a person’s token named "admin" alone', async () => {
    const person = (await concierge.admin.post('/api/tokens', { role: 'account-manager', name: 'admin' })).body.token as string;
    const rotated = 'rotated-admin-token-0123456789';
    await concierge.restart({ env: { CONCIERGE_ADMIN_TOKEN: rotated } });
    expect((await concierge.as(person).get('/api/incidents')).status).toBe(200);
    expect((await concierge.as(rotated).get('/api/incidents')).status).toBe(200);
    expect((await concierge.as(ADMIN_TOKEN).get('/api/incidents')).status).toBe(401);
  });
});
