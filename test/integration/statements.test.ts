import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { loadAgreements } from '../../agreements/load.js';
import { issueStatement } from '../../agreements/statements.js';
import { statementDocuments, statementLineEvidence } from '../../agreements/statement-documents.js';
import { agreementsInForce, syncAgreements } from '../../agreements/store.js';
import type { Agreement } from '../../contracts/agreement.js';
import type { Db } from '../../db/connect.js';
import { databaseKinds, openTestDatabase } from '../support/databases.js';

/**
 * Issuing GreenMart's May 2026 (one 20 kWh weekday session: PlugCo owes GreenMart 8.24, see
 * settle-cli.test.ts), re-settling it unchanged, then after a late session: revision 2 and a credit
 * note for the difference, numbered without gaps; statements never change.
 */
describe.each(databaseKinds)('statements on %s', (kind) => {
  let db: Db;
  let dispose: () => Promise<void>;
  let greenmart: Agreement;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(kind));
    await syncAgreements(db, (await loadAgreements()).agreements, new Date('2026-04-01T00:00:00Z'));
    greenmart = (await agreementsInForce(db)).find((a) => a.id === 'greenmart-retail')!;
    await db
      .insertInto('chargers')
      .values({ id: 'GM-LDS-01', passwordHash: 'x', siteId: 'greenmart-leeds', vendor: null, model: null, serialNumber: null, firmwareVersion: null, protocol: null, gatewayNode: null, connectedAt: null, lastSeenAt: null, bootedAt: null, state: 'active' })
      .execute();
    await session('1', '2026-05-05T09:00:00Z', '2026-05-05T10:00:00Z', 20000);
  });
  afterAll(async () => dispose?.());

  function session(transactionId: string, startedAt: string, endedAt: string, wh: number) {
    return db
      .insertInto('sessions')
      .values({ chargerId: 'GM-LDS-01', connectorId: 1, transactionId, idTag: 'CARD-1', status: 'ended', startedAt, endedAt, meterStartWh: '0', meterLastWh: String(wh), meterStopWh: String(wh), protocol: 'ocpp1.6' })
      .execute();
  }
  const read = (id: string) => db.selectFrom('statements').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('issues the month once, numbered, dated from its data; the same inputs again issue nothing', async () => {
    const first = await issueStatement(db, greenmart, 1, '2026-05');
    expect(first).toEqual({ statementId: 'PLUGCO-2026-00001', revision: 1, newlyIssued: true, noteId: null });
    const row = await read(first.statementId);
    expect(row).toMatchObject({ kind: 'statement', agreementId: 'greenmart-retail', month: '2026-05', issuer: 'plugco', recipient: 'greenmart', currency: 'GBP', issuedOn: '2026-06-10', referencesId: null });
    expect(Number(row.due)).toBe(-8.24);
    expect((row.content as { statement: { due: { amount: number } } }).statement.due.amount).toBe(8.24);
    expect(await issueStatement(db, greenmart, 1, '2026-05')).toEqual({ statementId: 'PLUGCO-2026-00001', revision: 1, newlyIssued: false, noteId: null });
  });

  it('a late session issues revision 2 and a credit note for the difference, referencing revision 1; numbers have no gap', async () => {
    // Another 20 kWh weekday session in May, whose end arrives now.
    await session('2', '2026-05-12T09:00:00Z', '2026-05-12T10:00:00Z', 20000);
    const second = await issueStatement(db, greenmart, 1, '2026-05');
    expect(second).toEqual({ statementId: 'PLUGCO-2026-00002', revision: 2, newlyIssued: true, noteId: 'PLUGCO-2026-00003' });
    const revision = await read(second.statementId);
    expect(Number(revision.due)).toBe(-16.48);
    expect(revision.referencesId).toBe('PLUGCO-2026-00001');
    // Dated the day its newest input, the late session's CDR, was issued.
    const cdr = await db.selectFrom('cdrs').select('issuedAt').where('sessionId', '=', (await db.selectFrom('sessions').select('id').where('transactionId', '=', '2').executeTakeFirstOrThrow()).id).executeTakeFirstOrThrow();
    expect(revision.issuedOn).toBe(DateTime.fromJSDate(cdr.issuedAt, { zone: 'Europe/London' }).toISODate());
    const note = await read(second.noteId!);
    expect(note).toMatchObject({ kind: 'credit-note', referencesId: 'PLUGCO-2026-00001', revision: 2 });
    expect(Number(note.due)).toBe(-8.24);
    expect(note.content).toMatchObject({ replaces: 'PLUGCO-2026-00001', by: 'PLUGCO-2026-00002', previousDue: -8.24, due: -16.48, difference: -8.24 });
    const numbers = await db.selectFrom('statements').select('seq').where('issuer', '=', 'plugco').orderBy('seq').execute();
    expect(numbers.map((n) => n.seq)).toEqual([1, 2, 3]);
  });

  it('a root cause re-diagnosed issues a revision: a hardware outage earns GreenMart a credit; re-diagnosed as the utility’s, the credit goes', async () => {
    // GM-LDS-01 faulted from Wednesday 20 May 10:00 to Friday 22 May 10:00 London: an incident covered it.
    await db
      .insertInto('statusLog')
      .values([
        { chargerId: 'GM-LDS-01', connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure', vendorErrorCode: null, info: null, reportedAt: '2026-05-20T09:00:00Z', protocol: 'ocpp1.6', payload: '{}' },
        { chargerId: 'GM-LDS-01', connectorId: 1, status: 'Available', errorCode: 'NoError', vendorErrorCode: null, info: null, reportedAt: '2026-05-22T09:00:00Z', protocol: 'ocpp1.6', payload: '{}' },
      ])
      .execute();
    // The incident's projection, as its workflow saves it (its faults in their own table): diagnosed as hardware.
    const diagnosed = (cause: string) => JSON.stringify({ rootCause: { cause, evidence: null }, cancelledAt: null });
    await db
      .insertInto('incidents')
      .values({ id: 'INC-RD-1', workflowId: 'incident:GM-LDS-01:1', runId: 'r1', chargerId: 'GM-LDS-01', connectorId: 1, status: 'resolved', priority: 'P2', openedAt: '2026-05-20T09:00:05Z', acknowledgedAt: null, resolvedAt: '2026-05-22T09:00:00Z', respondBy: null, fixBy: null, responseBreached: false, fixBreached: false, revision: 1, updatedAt: '2026-05-22T09:00:00Z', agreementId: 'greenmart-retail', agreementVersion: 1, siteId: 'greenmart-leeds', assigneeId: null, state: diagnosed('hardware') })
      .execute();
    await db.insertInto('incidentFaults').values({ incidentId: 'INC-RD-1', eventId: 'e1', status: 'Faulted', errorCode: 'GroundFailure', vendorErrorCode: null, info: null, at: '2026-05-20T09:00:00Z' }).execute();
    const third = await issueStatement(db, greenmart, 1, '2026-05');
    expect(third).toMatchObject({ revision: 3, newlyIssued: true });
    const revision3 = (await read(third.statementId)).content as { statement: { lines: { kind: string; chargerId: string | null; net: number }[] }; evidence: { ports: { chargerId: string; outages: { cause: string; incidentId: string | null; excluded: boolean }[] }[] } };
    expect(revision3.statement.lines.filter((l) => l.kind === 'sla-credit').map((l) => [l.chargerId, l.net])).toEqual([['GM-LDS-01', 100]]);
    // A cause that excludes nothing leaves the outage a fault, traced to its incident.
    expect(revision3.evidence.ports.find((p) => p.chargerId === 'GM-LDS-01')!.outages).toMatchObject([{ cause: 'fault', incidentId: 'INC-RD-1', excluded: false }]);
    // The credit line's evidence: the port, its outage, the incident that covered it.
    const creditLine = revision3.statement.lines.findIndex((l) => l.kind === 'sla-credit') + 1;
    expect(await statementLineEvidence(db, third.statementId, creditLine)).toMatchObject({ cdrs: null, incidents: null, ports: [{ chargerId: 'GM-LDS-01', connectorId: 1, outages: [{ incidentId: 'INC-RD-1', start: '2026-05-20T09:00:00.000Z', end: '2026-05-22T09:00:00.000Z' }] }] });
    // PlugCo owed 16.48; now 100.00 + 20.00 VAT more: a credit note of 120.00 in GreenMart's favour.
    expect(await read(third.noteId!)).toMatchObject({ kind: 'credit-note', due: '-120.00', referencesId: 'PLUGCO-2026-00002' });

    // The technician's diagnosis is corrected: the utility cut the supply (excluded from uptime).
    await db.updateTable('incidents').set({ state: diagnosed('utility'), revision: 2 }).where('id', '=', 'INC-RD-1').execute();
    const fourth = await issueStatement(db, greenmart, 1, '2026-05');
    expect(fourth).toMatchObject({ revision: 4, newlyIssued: true });
    const revision4 = (await read(fourth.statementId)).content as typeof revision3;
    expect(revision4.statement.lines.filter((l) => l.kind === 'sla-credit')).toEqual([]);
    expect(revision4.evidence.ports.find((p) => p.chargerId === 'GM-LDS-01')!.outages).toMatchObject([{ cause: 'utility', incidentId: 'INC-RD-1', excluded: true }]);
    expect(await read(fourth.noteId!)).toMatchObject({ kind: 'debit-note', due: '120.00', referencesId: third.statementId });
    expect(Number((await read(fourth.statementId)).due)).toBe(-16.48);
  });

  it('never changes or deletes a statement, and settles no month before it is over', async () => {
    await expect(db.updateTable('statements').set({ due: '0' }).where('id', '=', 'PLUGCO-2026-00001').execute()).rejects.toThrow(/a statement is never changed or deleted/);
    await expect(db.deleteFrom('statements').where('id', '=', 'PLUGCO-2026-00001').execute()).rejects.toThrow(/never changed or deleted/);
    await expect(issueStatement(db, greenmart, 1, '2026-12', new Date('2026-12-15T00:00:00Z'))).rejects.toThrow(/2026-12 has not ended/);
  });

  it('renders HTML, PDF and CSV from the stored statement alone: byte-identical every time', async () => {
    const first = (await statementDocuments(db, 'PLUGCO-2026-00001'))!;
    const again = (await statementDocuments(db, 'PLUGCO-2026-00001'))!;
    expect(again.html).toBe(first.html);
    expect(again.pdf.equals(first.pdf)).toBe(true);
    expect(again.csv).toEqual(first.csv);
    expect(first.title).toBe('Statement PLUGCO-2026-00001 — May 2026');
    expect(first.html).toContain('PlugCo Charging Ltd pays GreenMart Stores Ltd');
    expect(first.html).toContain('GBP 8.24');
    expect(first.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(first.pdf.toString('latin1')).toContain('(D:20260610000000Z)'); // its CreationDate: the issue date
    const [header, ...rows] = first.csv.lines.trim().split('\r\n');
    expect(header).toBe('number,kind,description,site,charger,payer,payee,net,vat_percent,vat,gross,currency,settles');
    expect(rows.find((r) => r.includes(',revenue-share,'))).toContain(',plugco,greenmart,2.07,20,0.41,2.48,GBP,yes');
    // Revision 1 was issued before the late session's CDR: its sessions are the first one only.
    expect(first.csv.sessions.trim().split('\r\n')).toHaveLength(2);
    const note = (await statementDocuments(db, 'PLUGCO-2026-00003'))!;
    expect(note.title).toBe('Credit note PLUGCO-2026-00003 — May 2026');
    expect(note.html).toContain('8.24 in favour of GreenMart Stores Ltd');
    expect(await statementDocuments(db, 'NOPE-2026-00001')).toBeNull();
  });
});

