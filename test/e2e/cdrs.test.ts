import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import greenmart from '../../contracts/agreements/greenmart-retail.js';
import { RawCharger } from '../../simulator/raw-charger.js';
import { ADMIN_TOKEN, CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';
import { monthFigures } from '../../agreements/month-figures.js';
import { parseAgreement } from '../../contracts/agreement.js';
import { settleMonth } from '../../contracts/settlement.js';
import { startSmtpServer } from '../support/mail.js';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Sessions over real OCPP 1.6 frames become priced CDRs: the charger's own timestamps, meter values
 * and statuses, the agreement's OCPI tariff, its vouchers; a CDR is never changed.
 */
describe.each(databaseKinds)('charge detail records on %s', (kind) => {
  const chargers = { a: uniqueId('AL'), b: uniqueId('AL') };
  const agreementId = uniqueId('alpina').toLowerCase();
  const greenmartId = uniqueId('greenmart').toLowerCase();
  const [site] = alpina.sites;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => smtp?.close());
  const concierge = useTestApp({
    name: 'cdrs',
    database: kind,
    env: () => ({ SMTP_URL: smtp.url }),
    // Its own agreement id: settlement workflow ids (settlement:<agreement>:<month>) are unique on the shared Temporal server.
    agreements: { alpina: { ...alpina, id: agreementId, sites: [{ ...site!, chargers: Object.values(chargers).map((id) => ({ id, model: 'Alfen Eve Single S-line', connectors: 1 })) }] }, greenmart: { ...greenmart, id: greenmartId } },
    chargers: Object.values(chargers),
    captureHistoriesAs: 'settlement',
  });

  /** Plugged in Monday 4 May 2026 16:30 Vienna, charging 10 kWh until 18:30, connected until 19:45. */
  async function chargeOneEvening(chargerId: string, idTag: string) {
    const charger = await RawCharger.connect(concierge.ws, chargerId, CHARGER_PASSWORD);
    await charger.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve Single S-line' });
    const status = (status: string, timestamp: string) => charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status, timestamp });
    await status('Preparing', '2026-05-04T14:29:00Z');
    const [, , answer] = await charger.call('StartTransaction', { connectorId: 1, idTag, meterStart: 1000, timestamp: '2026-05-04T14:30:00Z' });
    const started = answer as { transactionId: number };
    await status('Charging', '2026-05-04T14:30:00Z');
    for (const [i, time] of ['15:00', '15:30', '16:00', '16:30'].entries()) {
      await charger.call('MeterValues', {
        connectorId: 1,
        transactionId: started.transactionId,
        meterValue: [{ timestamp: `2026-05-04T${time}:00Z`, sampledValue: [{ value: String(3500 + 2500 * i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }, { value: '5000', measurand: 'Power.Active.Import', unit: 'W' }] }],
      });
    }
    await status('SuspendedEV', '2026-05-04T16:30:00Z');
    await charger.call('StopTransaction', { transactionId: started.transactionId, idTag, meterStop: 11000, timestamp: '2026-05-04T17:45:00Z' });
    await charger.close();
  }

  const cdrOf = (chargerId: string) =>
    eventually(async () => concierge.db.selectFrom('cdrs').selectAll().where('chargerId', '=', chargerId).executeTakeFirst(), 20_000, `the CDR of ${chargerId}`);

  it('prices a session when it ends: 10 kWh at 0.49 and 75 idle minutes after the first hour, 12.40 / 14.88 EUR', async () => {
    await chargeOneEvening(chargers.a, 'RFID-0042');
    const cdr = await cdrOf(chargers.a);
    expect(cdr).toMatchObject({
      revision: 1,
      agreementId,
      siteId: 'alpina-kitzbuehel',
      tariffId: 'alpina-public',
      currency: 'EUR',
      voucherCode: null,
      startDateTime: new Date('2026-05-04T14:30:00Z'),
      endDateTime: new Date('2026-05-04T17:45:00Z'),
    });
    expect([cdr.totalEnergy, cdr.totalTime, cdr.totalParkingTime].map(Number)).toEqual([10, 3.25, 1.25]);
    expect([cdr.totalCostExclVat, cdr.totalCostInclVat, cdr.energyCostExclVat, cdr.parkingCostInclVat].map(Number)).toEqual([12.4, 14.88, 4.9, 9]);
    // Stored as issued, byte for byte: its amounts keep their minor units.
    expect(cdr.document).toContain('"total_energy_cost":{"excl_vat":4.90,"incl_vat":5.88}');
    const document = JSON.parse(cdr.document) as { id: string; charging_periods: { start_date_time: string }[]; total_cost: { incl_vat: number }; tariffs: { id: string }[] };
    expect(document.id).toBe(cdr.id);
    expect(document.charging_periods.map((p) => p.start_date_time)).toEqual(['2026-05-04T14:30:00.000Z', '2026-05-04T15:30:00.000Z', '2026-05-04T16:30:00.000Z']);
    expect(document.total_cost.incl_vat).toBe(14.88);
    expect(document.tariffs.map((t) => t.id)).toEqual(['alpina-public']);
  });

  it('a guest’s voucher takes its discount off what the driver pays, and the CDR is never changed or deleted', async () => {
    await chargeOneEvening(chargers.b, 'ALPINA-GUEST');
    const cdr = await cdrOf(chargers.b);
    expect([cdr.voucherCode, Number(cdr.totalCostInclVat), Number(cdr.listPriceInclVat)]).toEqual(['ALPINA-GUEST', 0, 14.88]);
    await expect(concierge.db.updateTable('cdrs').set({ totalCostInclVat: '1.00' }).where('id', '=', cdr.id).execute()).rejects.toThrow(/a CDR is never changed or deleted/);
    await expect(concierge.db.deleteFrom('cdrs').where('id', '=', cdr.id).execute()).rejects.toThrow(/a CDR is never changed or deleted/);
    const again = await concierge.db.selectFrom('cdrs').select(['totalCostInclVat']).where('id', '=', cdr.id).executeTakeFirstOrThrow();
    expect(Number(again.totalCostInclVat)).toBe(0);
  });

  it('adds the month up from its CDRs: May 2026’s statement lines for the two evenings, to the cent', async () => {
    await cdrOf(chargers.a);
    await cdrOf(chargers.b);
    const agreement = parseAgreement({ ...alpina, id: agreementId, sites: [{ ...site!, chargers: Object.values(chargers).map((id) => ({ id, model: 'Alfen Eve Single S-line', connectors: 1 })) }] }).agreement!;
    const { figures, evidence } = await monthFigures(concierge.db, agreement, '2026-05');
    expect(figures.usage.map((u) => [u.chargerId, u.sessions, u.energyKwh.toFixed(), u.paidInclVat.toFixed(2), u.listInclVat.toFixed(2)]).sort()).toEqual(
      [
        [chargers.a, 1, '10', '14.88', '14.88'],
        [chargers.b, 1, '10', '0.00', '14.88'],
      ].sort(),
    );
    // Both chargers covered all May (the agreement's first version covers the month); no outage.
    expect(figures.chargers.map((c) => c.servedMs)).toEqual([31 * 86_400_000, 31 * 86_400_000]);
    expect(evidence.ports.map((p) => p.uptimePercent)).toEqual([100, 100]);
    const statement = settleMonth(figures);
    // Share: 100 % × (12.40 − 2.5 % × 14.88 = 0.372) = 12.028 → 12.03 (+2.4056 → 2.41); fees 2 × 39.00 (+7.80).
    const line = (kind: string) => statement.lines.filter((l) => l.kind === kind).map((l) => `${l.net.toFixed(2)}+${l.vat.toFixed(2)}`);
    expect(line('revenue-share')).toEqual(['12.03+2.41']);
    expect(line('service-fee')).toEqual(['39.00+7.80', '39.00+7.80']);
    expect(line('vouchers')).toEqual(['14.88+0.00']);
    expect({ amount: statement.due.amount.toFixed(2), payer: statement.due.payer }).toEqual({ amount: '79.16', payer: 'alpina' });
  });

  it('settles May on demand: issued, approved by an account manager, received over SMTP with its PDF and CSVs; the venue sees it once approved, and only its own', async () => {
    const started = await concierge.admin.post('/api/settlements', { agreementId, month: '2026-05' });
    expect(started.status).toBe(202);
    const waiting = await eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${agreementId}/2026-05`);
      return body.status === 'awaiting-approval' ? body : null;
    }, 30_000, 'the statement awaiting approval');
    expect(waiting).toMatchObject({ revision: 1, noteId: null, statementId: expect.stringMatching(/^CHARGEOPS-2026-\d{5}$/) });
    const id = waiting.statementId as string;
    expect((await concierge.admin.get(`/api/statements/${id}`)).body).toMatchObject({ kind: 'statement', month: '2026-05', issuedOn: '2026-06-05', due: '79.16', events: [] });

    const dispatcher = concierge.as((await concierge.admin.post('/api/tokens', { role: 'dispatcher', name: 'Dana' })).body.token);
    expect((await dispatcher.post(`/api/statements/${id}/approve`)).status).toBe(403);
    const alpinaVenueToken = (await concierge.admin.post('/api/tokens', { role: 'venue', name: 'Alpina front desk', scope: { sites: ['alpina-kitzbuehel'] } })).body.token as string;
    const alpinaVenue = concierge.as(alpinaVenueToken);
    const leedsVenue = concierge.as((await concierge.admin.post('/api/tokens', { role: 'venue', name: 'Leeds store', scope: { sites: ['greenmart-leeds'] } })).body.token);
    // Awaiting approval, the statement is the operator's draft: the hotel does not see it yet.
    expect((await alpinaVenue.get('/api/statements')).body.statements).toEqual([]);
    expect((await alpinaVenue.get(`/api/statements/${id}`)).status).toBe(404);

    const approved = await concierge.admin.post(`/api/statements/${id}/approve`);
    expect(approved.status).toBe(200);
    expect((await alpinaVenue.get('/api/statements')).body.statements.map((s: { id: string }) => s.id)).toEqual([id]);
    expect((await leedsVenue.get('/api/statements')).body.statements).toEqual([]);
    expect((await leedsVenue.get(`/api/statements/${id}`)).status).toBe(404);
    // Alpina's data access grants the hotel its session detail.
    const sessionsCsv = await fetch(`${concierge.url}/api/statements/${id}/documents/sessions.csv`, { headers: { authorization: `Bearer ${alpinaVenueToken}` } });
    expect(sessionsCsv.status).toBe(200);
    expect((await sessionsCsv.text()).split('\r\n')[0]).toMatch(/^cdr,site,charger,/);
    const sent = await eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${agreementId}/2026-05`);
      return body.status === 'sent' ? body : null;
    }, 30_000, 'the statement sent');
    expect(sent.approvedBy).toBeTruthy();
    const mail = await eventually(async () => smtp.received.find((m) => m.raw.includes(`Statement ${id}`)), 10_000, 'the statement by mail');
    expect(mail.rcptTo).toEqual(['accounting@hotel-alpina.example']);
    for (const file of [`${id}.pdf`, `${id}-lines.csv`, `${id}-sessions.csv`, `${id}-outages.csv`]) expect(mail.raw).toContain(file);
    expect(mail.raw).toContain('application/pdf');
    const events = (await concierge.admin.get(`/api/statements/${id}`)).body.events.map((e: { kind: string }) => e.kind);
    expect(events).toEqual(['approved', 'sent']);
    // The PDF the API serves is the one that was mailed, byte for byte.
    const served = await fetch(`${concierge.url}/api/statements/${id}/documents/pdf`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(served.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await served.arrayBuffer());
    const attached = /filename=\S*\.pdf[\s\S]*?\r?\n\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n--/.exec(mail.raw)?.[1];
    expect(Buffer.from(attached!.replace(/\s+/g, ''), 'base64').equals(pdf)).toBe(true);

    // Settling the month again with the same inputs issues and sends nothing.
    expect((await concierge.admin.post('/api/settlements', { agreementId, month: '2026-05' })).status).toBe(202);
    const again = await eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${agreementId}/2026-05`);
      return body.status === 'unchanged' ? body : null;
    }, 30_000, 'the unchanged month');
    expect(again.statementId).toBe(id);
    expect(smtp.received.filter((m) => m.raw.includes(`Statement ${id}`))).toHaveLength(1);
  });

  it('shows what each line of May rests on: a charger’s sessions, the voucher’s, the month’s for the revenue share; a venue of another site finds nothing', async () => {
    const [may] = (await concierge.admin.get(`/api/statements?agreement=${agreementId}&month=2026-05`)).body.statements as { id: string }[];
    const lines = ((await concierge.admin.get(`/api/statements/${may!.id}`)).body.content as { statement: { lines: { kind: string; chargerId: string | null }[] } }).statement.lines;
    const number = (kind: string, chargerId: string | null = null) => lines.findIndex((l) => l.kind === kind && (chargerId === null || l.chargerId === chargerId)) + 1;
    const evidence = async (line: number) => (await concierge.admin.get(`/api/statements/${may!.id}/lines/${line}`)).body as { line: { kind: string }; cdrs: string[] | null; ports: unknown[] | null; incidents: string[] | null };
    const [a, b] = [await cdrOf(chargers.a), await cdrOf(chargers.b)];
    expect(await evidence(number('sessions', chargers.a))).toMatchObject({ line: { kind: 'sessions' }, cdrs: [a.id], ports: null, incidents: null });
    expect((await evidence(number('vouchers'))).cdrs).toEqual([b.id]);
    expect((await evidence(number('revenue-share'))).cdrs!.sort()).toEqual([a.id, b.id].sort());
    expect(await evidence(number('service-fee', chargers.a))).toMatchObject({ line: { kind: 'service-fee' }, cdrs: null });
    expect((await concierge.admin.get(`/api/statements/${may!.id}/lines/${lines.length + 1}`)).status).toBe(404);
    expect((await concierge.admin.get(`/api/statements/${may!.id}/lines/0`)).status).toBe(400);
    const leedsVenue = concierge.as((await concierge.admin.post('/api/tokens', { role: 'venue', name: 'Leeds till', scope: { sites: ['greenmart-leeds'] } })).body.token);
    expect((await leedsVenue.get(`/api/statements/${may!.id}/lines/1`)).status).toBe(404);
  });

  it('credits a CDR (a duplicate session): a credit CDR beside it, and May settled again gives revision 2 with a debit note, mailed after approval', async () => {
    const cdr = await cdrOf(chargers.a);
    const dispatcher = concierge.as((await concierge.admin.post('/api/tokens', { role: 'dispatcher', name: 'Dan' })).body.token);
    expect((await dispatcher.post(`/api/cdrs/${cdr.id}/credit`, { reason: 'duplicate session' })).status).toBe(403);
    expect((await concierge.admin.post(`/api/cdrs/${cdr.id}/credit`, { reason: '' })).status).toBe(400);
    const credited = await concierge.admin.post(`/api/cdrs/${cdr.id}/credit`, { reason: 'duplicate session' });
    expect(credited.status).toBe(201);
    expect(credited.body).toMatchObject({ id: `${cdr.id}-CREDIT`, credit: true, creditReferenceId: cdr.id, month: '2026-05', document: { credit: true, credit_reference_id: cdr.id, remark: 'duplicate session', total_cost: { excl_vat: -12.4, incl_vat: -14.88 } } });
    expect((await concierge.admin.post(`/api/cdrs/${cdr.id}/credit`, { reason: 'again' })).status).toBe(409);
    expect((await concierge.admin.post(`/api/cdrs/${cdr.id}-CREDIT/credit`, { reason: 'a credit of a credit' })).status).toBe(409);
    // The CDR itself is unchanged, and says what cancels it; a venue of another agreement finds neither.
    const alpinaVenue = concierge.as((await concierge.admin.post('/api/tokens', { role: 'venue', name: 'Alpina desk', scope: { sites: ['alpina-kitzbuehel'] } })).body.token);
    expect((await alpinaVenue.get(`/api/cdrs/${cdr.id}`)).body).toMatchObject({ id: cdr.id, credit: false, creditedBy: `${cdr.id}-CREDIT`, document: { total_cost: { incl_vat: 14.88 } } });
    const leedsVenue = concierge.as((await concierge.admin.post('/api/tokens', { role: 'venue', name: 'Leeds desk', scope: { sites: ['greenmart-leeds'] } })).body.token);
    expect((await leedsVenue.get(`/api/cdrs/${cdr.id}`)).status).toBe(404);

    // May again: only the voucher session is left, so no revenue share (was 12.03 + 2.41); Alpina owes 93.60, 14.44 more.
    expect((await concierge.admin.post('/api/settlements', { agreementId, month: '2026-05' })).status).toBe(202);
    const waiting = await eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${agreementId}/2026-05`);
      return body.status === 'awaiting-approval' && body.revision === 2 ? body : null;
    }, 30_000, 'revision 2 awaiting approval');
    const revision2 = (await concierge.admin.get(`/api/statements/${waiting.statementId}`)).body;
    expect(revision2).toMatchObject({ kind: 'statement', revision: 2, due: '93.60', referencesId: expect.stringMatching(/^CHARGEOPS-2026-/) });
    expect((await concierge.admin.get(`/api/statements/${waiting.noteId}`)).body).toMatchObject({ kind: 'debit-note', revision: 2, due: '14.44', referencesId: revision2.referencesId });
    expect((await concierge.admin.post(`/api/statements/${waiting.statementId}/approve`)).status).toBe(200);
    const mail = await eventually(async () => smtp.received.find((m) => m.raw.includes(`Statement ${waiting.statementId}`)), 30_000, 'revision 2 by mail');
    expect(mail.raw).toContain(`${waiting.noteId}.pdf`);
  });

  it('keeps session detail from a venue whose agreement does not grant it: GreenMart’s store reads its statement’s lines, not its sessions', async () => {
    // GreenMart asks for no approval: its May is issued and sent at once.
    expect((await concierge.admin.post('/api/settlements', { agreementId: greenmartId, month: '2026-05' })).status).toBe(202);
    const sent = await eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${greenmartId}/2026-05`);
      return body.status === 'sent' ? body : null;
    }, 30_000, 'GreenMart’s May sent');
    const token = (await concierge.admin.post('/api/tokens', { role: 'venue', name: 'Leeds store', scope: { sites: ['greenmart-leeds'] } })).body.token as string;
    const get = (document: string) => fetch(`${concierge.url}/api/statements/${sent.statementId}/documents/${document}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get('lines.csv')).status).toBe(200);
    const refused = await get('sessions.csv');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toContain('does not grant the venue session-level data');
    expect((await concierge.as(token).get('/api/statements')).body.statements.map((s: { id: string }) => s.id)).toEqual([sent.statementId]);
  });

  it('`concierge settle` (without --dry-run) settles through the running Concierge: a month already sent is found unchanged, a new one awaits approval, one not over is refused', async () => {
    const settle = (agreement: string, month: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'settle', '--agreement', agreement, '--month', month], {
        cwd: root,
        env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: concierge.taskQueue },
      }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    const unchanged = (await settle(greenmartId, '2026-05')) as { stdout: string };
    expect(JSON.parse(unchanged.stdout)).toMatchObject({ agreementId: greenmartId, month: '2026-05', status: 'unchanged', revision: 1 });
    const april = (await settle(agreementId, '2026-04')) as { stdout: string };
    const state = JSON.parse(april.stdout) as { status: string; statementId: string };
    expect(state).toMatchObject({ status: 'awaiting-approval', revision: 1 });
    expect((await concierge.admin.get(`/api/statements/${state.statementId}`)).body).toMatchObject({ month: '2026-04', due: expect.any(String) });
    expect(await settle(agreementId, '2099-01')).toMatchObject({ code: 1, stderr: expect.stringContaining('2099-01 has not ended') });
  });
});
