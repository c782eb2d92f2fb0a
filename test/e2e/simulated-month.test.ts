import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import greenmart from '../../contracts/agreements/greenmart-retail.js';
import { parseAgreement } from '../../contracts/agreement.js';
import { monthFigures } from '../../agreements/month-figures.js';
import { RawCharger } from '../../simulator/raw-charger.js';
import { ADMIN_TOKEN, CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';
import { startSmtpServer } from '../support/mail.js';

/**
 * June 2026 at GreenMart Leeds, lived over real OCPP 1.6 frames, settled into the statement that
 * docs/settlement.md works by hand ("GreenMart Leeds, June 2026"): three sessions, a ground fault
 * that the technician diagnoses as the utility's, and a charger that is offline for a day and a
 * half. The chargers' own timestamps carry the month; the gateway's clock (the only clock a
 * simulation replaces) puts the offline period in June too. Then a late session: revision 2 and a
 * credit note, as the document works it.
 */
describe.each(databaseKinds)('a simulated month on %s', (kind) => {
  const ids = { a: uniqueId('GM-LDS-01'), b: uniqueId('GM-LDS-02'), c: uniqueId('GM-LDS-03') };
  const agreementId = uniqueId('greenmart').toLowerCase();
  const [site] = greenmart.sites;
  const agreementInput = {
    ...greenmart,
    id: agreementId,
    sites: [{ ...site!, chargers: site!.chargers.map((charger, i) => ({ ...charger, id: Object.values(ids)[i]! })) }],
  };
  const agreement = parseAgreement(agreementInput).agreement!;
  let simulated = new Date('2026-05-31T23:00:00Z');
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => smtp?.close());
  const concierge = useTestApp({
    name: 'simulated-month',
    database: kind,
    env: () => ({ SMTP_URL: smtp.url }),
    // A second tenant, to show the store sees only its own statements.
    agreements: { greenmart: agreementInput, alpina: { ...alpina, id: uniqueId('alpina').toLowerCase(), sites: alpina.sites.map((s) => ({ ...s, chargers: s.chargers.map((c) => ({ ...c, id: uniqueId(c.id) })) })) } },
    chargers: Object.values(ids),
    clock: () => simulated,
  });
  const chargers = new Map<string, RawCharger>();

  async function connect(id: string, connectors: number, at: string) {
    simulated = new Date(at);
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
    await charger.call('BootNotification', { chargePointVendor: 'Wallbox', chargePointModel: 'Commander 2' });
    for (let connectorId = 1; connectorId <= connectors; connectorId++) await charger.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Available', timestamp: at });
    chargers.set(id, charger);
    return charger;
  }

  /** A session charging from start to stop (meter values each half hour as given), Available again at the stop. */
  async function charge(id: string, connectorId: number, start: string, stop: string, kWh: number, samples: Array<[string, number]> = []) {
    const charger = chargers.get(id)!;
    const status = (value: string, timestamp: string) => charger.call('StatusNotification', { connectorId, errorCode: 'NoError', status: value, timestamp });
    await status('Preparing', start);
    const [, , answer] = await charger.call('StartTransaction', { connectorId, idTag: 'RFID-7781', meterStart: 0, timestamp: start });
    const { transactionId } = answer as { transactionId: number };
    await status('Charging', start);
    for (const [timestamp, wh] of samples) {
      await charger.call('MeterValues', { connectorId, transactionId, meterValue: [{ timestamp, sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    }
    await charger.call('StopTransaction', { transactionId, idTag: 'RFID-7781', meterStop: kWh * 1000, timestamp: stop });
    await status('Available', stop);
  }

  const cdrsOf = (count: number) =>
    eventually(async () => {
      const rows = await concierge.db.selectFrom('cdrs').select(['chargerId', 'totalCostExclVat', 'totalCostInclVat']).where('agreementId', '=', agreementId).execute();
      return rows.length >= count ? rows : null;
    }, 20_000, `${count} CDRs`);
  const settlement = (revision: number) =>
    eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${agreementId}/2026-06`);
      return body.status === 'sent' && body.revision === revision ? body : null;
    }, 30_000, `revision ${revision} sent`);
  const linesOf = async (statementId: string) => {
    const { content } = (await concierge.admin.get(`/api/statements/${statementId}`)).body as {
      content: { statement: { lines: { kind: string; chargerId: string | null; net: number; vat: number; gross: number; payer: string; payee: string }[] } };
    };
    const cents = (amount: number) => amount.toFixed(2);
    return content.statement.lines.filter((l) => !['sessions', 'vouchers'].includes(l.kind)).map((l) => [l.kind, l.chargerId, cents(l.net), cents(l.vat), cents(l.gross), `${l.payer} → ${l.payee}`]);
  };

  it('lives June over OCPP: three sessions priced as the document prices them', async () => {
    await connect(ids.a, 1, '2026-05-31T23:00:00Z');
    await connect(ids.b, 1, '2026-05-31T23:00:00Z');
    await connect(ids.c, 2, '2026-05-31T23:00:00Z');
    // Tue 2 June 08:00–09:00 London, 20 kWh; Sat 6 June 10:00–12:00, 30 kWh; Mon 15 June 18:00–18:40, 12.5 kWh.
    await charge(ids.a, 1, '2026-06-02T07:00:00Z', '2026-06-02T08:00:00Z', 20, [['2026-06-02T07:30:00Z', 10_000]]);
    await charge(ids.b, 1, '2026-06-06T09:00:00Z', '2026-06-06T11:00:00Z', 30, [['2026-06-06T10:30:00Z', 22_500]]);
    await charge(ids.c, 1, '2026-06-15T17:00:00Z', '2026-06-15T17:40:00Z', 12.5);
    const cdrs = await cdrsOf(3);
    expect(cdrs.map((c) => [c.chargerId, Number(c.totalCostExclVat).toFixed(2), Number(c.totalCostInclVat).toFixed(2)]).sort()).toEqual([
      [ids.a, '14.10', '16.92'],
      [ids.b, '3.50', '4.20'],
      [ids.c, '8.93', '10.71'],
    ]);
  });

  it('a ground fault for two days counts against the port until the technician diagnoses the utility’s outage, then it is excused', async () => {
    const b = chargers.get(ids.b)!;
    // Wed 10 June 07:00 London until Fri 12 June 12:00: 53 hours, 35 of them in store hours.
    await b.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: '2026-06-10T06:00:00Z' });
    const incident = await eventually(async () => (await concierge.admin.get(`/api/incidents?chargerId=${ids.b}`)).body.incidents?.[0], 15_000, 'the incident on the faulted charger');
    await b.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: '2026-06-12T11:00:00Z' });
    const portOfB = async () => (await monthFigures(concierge.db, agreement, '2026-06')).evidence.ports.find((p) => p.chargerId === ids.b)!;
    const undiagnosed = await eventually(async () => {
      const port = await portOfB();
      return port.outageMinutes > 0 ? port : null;
    }, 10_000, 'the outage on record');
    expect(undiagnosed).toMatchObject({ uptimePercent: 95.14, outageMinutes: 53 * 60, excludedMinutes: 18 * 60 });
    expect(undiagnosed.outages).toEqual([{ start: '2026-06-10T06:00:00.000Z', end: '2026-06-12T11:00:00.000Z', cause: 'fault', incidentId: incident.id, excluded: false, overCap: false }]);

    const sam = concierge.as((await concierge.admin.post('/api/tokens', { role: 'technician', name: 'Sam Sparks', scope: { agreements: [agreementId] } })).body.token);
    const task = await eventually(async () => (await sam.get('/api/tasks?view=unassigned')).body.tasks.find((t: { incidentId: string }) => t.incidentId === incident.id), 15_000, 'the dispatch task');
    expect((await sam.post(`/api/tasks/${task.id}/claim`)).status).toBe(200);
    expect((await sam.post(`/api/incidents/${incident.id}/diagnose`, { rootCause: 'utility', evidence: 'Northern Powergrid outage notice NPG-2026-0610' })).status).toBe(200);
    const diagnosed = await eventually(async () => {
      const port = await portOfB();
      return port.uptimePercent === 100 ? port : null;
    }, 10_000, 'the outage excused');
    expect(diagnosed.outages).toEqual([{ start: '2026-06-10T06:00:00.000Z', end: '2026-06-12T11:00:00.000Z', cause: 'utility', incidentId: incident.id, excluded: true, overCap: false }]);
  });

  it('a charger offline from Wednesday 07:00 to Thursday 20:48 takes both its ports down: 28.8 store hours, 96.00 %', async () => {
    simulated = new Date('2026-06-17T06:00:00Z');
    await chargers.get(ids.c)!.close();
    await eventually(async () => (await concierge.db.selectFrom('chargers').select('connected').where('id', '=', ids.c).executeTakeFirst())?.connected === false || null, 10_000, 'the disconnect on record');
    await connect(ids.c, 2, '2026-06-18T19:48:00Z');
    const ports = await eventually(async () => {
      const { evidence } = await monthFigures(concierge.db, agreement, '2026-06');
      const ofC = evidence.ports.filter((p) => p.chargerId === ids.c);
      return ofC.every((p) => p.outageMinutes > 0) ? ofC : null;
    }, 10_000, 'the offline period on record');
    for (const port of ports) {
      expect(port).toMatchObject({ uptimePercent: 96, outageMinutes: 37.8 * 60, excludedMinutes: 9 * 60 });
      expect(port.outages).toEqual([{ start: '2026-06-17T06:00:00.000Z', end: '2026-06-18T19:48:00.000Z', cause: 'offline', incidentId: null, excluded: false, overCap: false }]);
    }
  });

  it('settles June into the hand-worked statement: PlugCo pays GreenMart 142.67, sent over SMTP with its attachments, byte-identical when rendered again', async () => {
    expect((await concierge.admin.post('/api/settlements', { agreementId, month: '2026-06' })).status).toBe(202);
    const sent = await settlement(1);
    const id = sent.statementId as string;
    expect(id).toMatch(/^PLUGCO-2026-\d{5}$/);
    expect(await linesOf(id)).toEqual([
      ['payment-processing', null, '0.60', '0.00', '0.60', 'plugco → payment-processor'],
      ['revenue-share', null, '3.89', '0.78', '4.67', 'plugco → greenmart'],
      ['energy-pass-through', null, '15.00', '3.00', '18.00', 'plugco → greenmart'],
      ['sla-credit', ids.c, '100.00', '20.00', '120.00', 'plugco → greenmart'],
    ]);
    const statement = (await concierge.admin.get(`/api/statements/${id}`)).body;
    expect(statement).toMatchObject({ kind: 'statement', revision: 1, issuedOn: '2026-07-10', due: '-142.67', content: { statement: { due: { amount: 142.67, payer: 'plugco', payee: 'greenmart' } } } });
    const evidence = statement.content.evidence as { ports: { chargerId: string; connectorId: number; uptimePercent: number }[] };
    expect(evidence.ports.map((p) => [p.chargerId, p.connectorId, p.uptimePercent])).toEqual([
      [ids.a, 1, 100],
      [ids.b, 1, 100],
      [ids.c, 1, 96],
      [ids.c, 2, 96],
    ]);

    const mail = await eventually(async () => smtp.received.find((m) => m.raw.includes(`Statement ${id}`)), 10_000, 'the statement by mail');
    expect(mail.rcptTo.sort()).toEqual(['finance@plugco.example', 'property@greenmart.example']);
    for (const file of [`${id}.pdf`, `${id}-lines.csv`, `${id}-sessions.csv`, `${id}-outages.csv`]) expect(mail.raw).toContain(file);

    const render = async () =>
      Promise.all(['html', 'pdf', 'lines.csv', 'sessions.csv', 'outages.csv'].map(async (document) => Buffer.from(await (await fetch(`${concierge.url}/api/statements/${id}/documents/${document}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).arrayBuffer())));
    const [first, second] = [await render(), await render()];
    first.forEach((bytes, i) => expect(bytes.equals(second[i]!)).toBe(true));
    const outagesCsv = first[4]!.toString('utf8');
    expect(outagesCsv).toContain('utility');
    expect(outagesCsv).toContain('offline');

    // The store sees its statement; a venue token of another site sees none of it.
    const venueToken = async (name: string, site: string) => {
      const issued = await concierge.admin.post('/api/tokens', { role: 'venue', name, scope: { sites: [site] } });
      expect(issued.status).toBe(201);
      return concierge.as(issued.body.token as string);
    };
    const store = await venueToken('Leeds store', 'greenmart-leeds');
    expect((await store.get('/api/statements')).body.statements.map((s: { id: string }) => s.id)).toEqual([id]);
    const hotel = await venueToken('Alpina desk', 'alpina-kitzbuehel');
    expect((await hotel.get('/api/statements')).body.statements).toEqual([]);
    expect((await hotel.get(`/api/statements/${id}`)).status).toBe(404);
  });

  it('a late session (its stop arrives after June was settled) gives revision 2 and a credit note of 2.10, mailed', async () => {
    // Tue 30 June 20:00–20:30 London, 5 kWh: 0.30 + 5 × 0.69 = 3.75, 4.50 with VAT.
    await charge(ids.a, 1, '2026-06-30T19:00:00Z', '2026-06-30T19:30:00Z', 5);
    await cdrsOf(4);
    expect((await concierge.admin.post('/api/settlements', { agreementId, month: '2026-06' })).status).toBe(202);
    const sent = await settlement(2);
    expect(await linesOf(sent.statementId)).toEqual([
      ['payment-processing', null, '0.69', '0.00', '0.69', 'plugco → payment-processor'],
      ['revenue-share', null, '4.44', '0.89', '5.33', 'plugco → greenmart'],
      ['energy-pass-through', null, '16.20', '3.24', '19.44', 'plugco → greenmart'],
      ['sla-credit', ids.c, '100.00', '20.00', '120.00', 'plugco → greenmart'],
    ]);
    const revision1 = (await concierge.admin.get(`/api/statements?agreement=${agreementId}&month=2026-06`)).body.statements.find((s: { revision: number; kind: string }) => s.revision === 1 && s.kind === 'statement');
    expect((await concierge.admin.get(`/api/statements/${sent.statementId}`)).body).toMatchObject({ revision: 2, due: '-144.77', referencesId: revision1.id });
    expect((await concierge.admin.get(`/api/statements/${sent.noteId}`)).body).toMatchObject({ kind: 'credit-note', revision: 2, due: '-2.10', referencesId: revision1.id });
    const mail = await eventually(async () => smtp.received.find((m) => m.raw.includes(`Statement ${sent.statementId}`)), 10_000, 'revision 2 by mail');
    expect(mail.raw).toContain(`${sent.noteId}.pdf`);
  });
});
