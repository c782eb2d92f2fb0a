import { readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import PDFDocument from 'pdfkit';
import type { Agreement } from '../contracts/agreement.js';
import { formatMoney, money } from '../contracts/money.js';
import type { TracedOutage } from './uptime-report.js';
import type { Db } from '../db/connect.js';

/**
 * A statement as people read it: HTML (the e-mail body and the web view), PDF, and CSV of its lines,
 * its sessions (CDRs) and its outages. Everything in them comes from the stored statement, its
 * agreement version and the CDRs issued before it — never from the clock — so rendering it again
 * gives the same bytes.
 */
export interface StatementDocuments {
  number: string;
  title: string;
  html: string;
  pdf: Buffer;
  csv: { lines: string; sessions: string; outages: string };
}

/** The CDRs a statement counted: its agreement's, ended in its month, issued before it was. */
function statementCdrs(db: Db, row: { agreementId: string; periodStart: Date; periodEnd: Date; createdAt: Date }) {
  return db
    .selectFrom('cdrs')
    .select(['id', 'chargerId', 'connectorId', 'siteId', 'startDateTime', 'endDateTime', 'totalEnergy', 'totalTime', 'totalParkingTime', 'tariffId', 'voucherCode', 'totalCostExclVat', 'totalCostInclVat', 'credit'])
    .where('agreementId', '=', row.agreementId)
    .where('endDateTime', '>=', row.periodStart)
    .where('endDateTime', '<', row.periodEnd)
    .where('issuedAt', '<=', row.createdAt)
    .orderBy('endDateTime')
    .orderBy('id')
    .execute();
}

export interface LineEvidence {
  line: StoredLine;
  /** The CDRs the line adds up (ids): a charger's sessions, or the month's for the revenue lines; the vouchers' for the voucher line. */
  cdrs: string[] | null;
  /** The ports whose uptime the line is for (an uptime credit), with their outages, each traced to its cause and incident. */
  ports: { chargerId: string; connectorId: number; uptimePercent?: number; outages: TracedOutage[] }[] | null;
  /** The incidents whose breached clocks the line counts (a breaches credit). */
  incidents: string[] | null;
}

/**
 * What one line of a stored statement rests on (1-based, in the statement's order): the sessions
 * (CDRs) behind the sessions, voucher, payment, revenue-share and energy lines; the ports and
 * their outages behind a charger's uptime credit; the breached incidents behind a breaches credit.
 * A service fee rests on the charger's coverage, which the line states. Null for no such line.
 */
export async function statementLineEvidence(db: Db, statementId: string, lineNumber: number): Promise<LineEvidence | null> {
  const row = await db.selectFrom('statements').select(['agreementId', 'periodStart', 'periodEnd', 'createdAt', 'content']).where('id', '=', statementId).executeTakeFirst();
  const content = row?.content as (StoredStatement & { evidence?: { breachedIncidents?: { response: string[]; fix: string[] } } }) | undefined;
  const line = content?.statement?.lines[lineNumber - 1];
  if (!row || !line) return null;
  const none: LineEvidence = { line, cdrs: null, ports: null, incidents: null };
  const ids = async (keep: (c: Awaited<ReturnType<typeof statementCdrs>>[number]) => boolean) => (await statementCdrs(db, row)).filter(keep).map((c) => c.id);
  switch (line.kind) {
    case 'sessions':
      return { ...none, cdrs: await ids((c) => c.chargerId === line.chargerId) };
    case 'vouchers':
      return { ...none, cdrs: await ids((c) => c.voucherCode !== null) };
    case 'payment-processing':
    case 'revenue-share':
    case 'energy-pass-through':
      return { ...none, cdrs: await ids(() => true) };
    case 'sla-credit': {
      if (line.chargerId !== null) return { ...none, ports: (content!.evidence?.ports ?? []).filter((p) => p.chargerId === line.chargerId) };
      // A breaches credit counts one clock's breaches: its unit says which ("fix breaches"), as its description does.
      const breached = content!.evidence?.breachedIncidents ?? { response: [], fix: [] };
      return { ...none, incidents: (line.unit ?? line.description).includes('fix breaches') ? breached.fix : breached.response };
    }
    default:
      return none;
  }
}

interface StoredLine {
  kind: string;
  description: string;
  quantity?: number | null;
  unit?: string | null;
  siteId: string | null;
  chargerId: string | null;
  payer: string;
  payee: string;
  net: number;
  vatPercent: number;
  vat: number;
  gross: number;
  settles: boolean;
}

interface StoredStatement {
  statement?: {
    lines: StoredLine[];
    vatByRate: { vatPercent: number; net: number; vat: number }[];
    due: { amount: number; payer: string | null; payee: string | null };
    rounding: string;
  };
  evidence?: { ports: { chargerId: string; connectorId: number; outages: TracedOutage[] }[] };
  replaces?: string;
  by?: string;
  previousDue?: number;
  due?: number;
  difference?: number;
}

const template = Handlebars.compile(readFileSync(new URL('../templates/statement.hbs', import.meta.url), 'utf8'), { strict: false });

export async function statementDocuments(db: Db, statementId: string): Promise<StatementDocuments | null> {
  const row = await db.selectFrom('statements').selectAll().where('id', '=', statementId).executeTakeFirst();
  if (!row) return null;
  const version = await db.selectFrom('agreementVersions').select('content').where('agreementId', '=', row.agreementId).where('version', '=', row.agreementVersion).executeTakeFirstOrThrow();
  const agreement = version.content as Agreement;
  const content = row.content as StoredStatement;
  const zone = agreement.sites[0]!.timeZone;
  const party = (id: string | null) => (id === null ? '' : (agreement.parties[id]?.name ?? (id === 'drivers' ? 'Drivers' : id === 'payment-processor' ? 'Payment processor' : id)));
  const amount = (value: number | undefined) => formatMoney(money(value ?? 0), row.currency);
  const kindName = row.kind === 'statement' ? 'Statement' : row.kind === 'credit-note' ? 'Credit note' : 'Debit note';
  const monthText = DateTime.fromISO(`${row.month}-01`, { zone }).toFormat('LLLL yyyy', { locale: 'en-GB' }); // not the machine's locale: the same bytes everywhere
  const title = `${kindName} ${row.id} — ${monthText}${row.kind === 'statement' && row.revision > 1 ? `, revision ${row.revision}` : ''}`;
  const lines = content.statement?.lines ?? [];
  const outages = (content.evidence?.ports ?? []).flatMap((p) => p.outages.map((o) => ({ port: `${p.chargerId} #${p.connectorId}`, ...o })));
  const local = (iso: string) => DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd HH:mm');
  const due = content.statement?.due;
  const view = {
    title,
    number: row.id,
    agreementName: agreement.name,
    periodText: `${monthText} (${local(row.periodStart.toISOString())} – ${local(row.periodEnd.toISOString())})`,
    issuedOn: row.issuedOn,
    issuerName: party(row.issuer),
    recipientName: party(row.recipient),
    references: row.referencesId,
    currency: row.currency,
    isNote: row.kind !== 'statement',
    noteText:
      row.kind === 'statement'
        ? ''
        : `${kindName} for the difference between ${content.replaces} (due ${amount(content.previousDue)}) and its revision ${content.by} (due ${amount(content.due)}): ${amount(Math.abs(content.difference ?? 0))} ${row.kind === 'credit-note' ? 'in favour of' : 'owed by'} ${party(row.recipient)}. Positive amounts are owed by ${party(row.recipient)}.`,
    lines: lines.map((l) => ({ ...l, charger: l.chargerId ?? '', payer: party(l.payer), payee: party(l.payee), net: amount(l.net), vat: amount(l.vat), gross: amount(l.gross) })),
    vatByRate: (content.statement?.vatByRate ?? []).map((r) => ({ rate: r.vatPercent, net: amount(r.net), vat: amount(r.vat) })),
    dueText: !due || due.payer === null ? 'Nothing is due.' : `${party(due.payer)} pays ${party(due.payee)} ${row.currency} ${amount(due.amount)}.`,
    outages: outages.map((o) => ({ port: o.port, start: local(o.start), end: local(o.end), cause: o.cause, incident: o.incidentId ?? '', counted: o.excluded ? 'excused' : o.overCap ? 'counted (over the cap)' : 'counted' })),
    rounding: content.statement?.rounding ?? 'Each amount is rounded once, half up, to the currency’s minor units.',
    timeZone: zone,
  };

  const csv = (records: unknown[][]) => stringify(records, { escape_formulas: true, record_delimiter: '\r\n' });
  const cdrs = await statementCdrs(db, row);
  const documents = {
    lines: csv([
      ['number', 'kind', 'description', 'site', 'charger', 'payer', 'payee', 'net', 'vat_percent', 'vat', 'gross', 'currency', 'settles'],
      ...lines.map((l) => [row.id, l.kind, l.description, l.siteId ?? '', l.chargerId ?? '', l.payer, l.payee, amount(l.net), String(l.vatPercent), amount(l.vat), amount(l.gross), row.currency, l.settles ? 'yes' : 'no']),
    ]),
    sessions: csv([
      ['cdr', 'site', 'charger', 'connector', 'start', 'end', 'energy_kwh', 'hours', 'parking_hours', 'tariff', 'voucher', 'paid_excl_vat', 'paid_incl_vat', 'currency', 'credit'],
      ...cdrs.map((c) => [c.id, c.siteId, c.chargerId, String(c.connectorId), c.startDateTime.toISOString(), c.endDateTime.toISOString(), c.totalEnergy, c.totalTime, c.totalParkingTime, c.tariffId ?? '', c.voucherCode ?? '', c.totalCostExclVat, c.totalCostInclVat, row.currency, c.credit ? 'yes' : 'no']),
    ]),
    outages: csv([['port', 'start', 'end', 'cause', 'incident', 'excluded', 'over_cap'], ...outages.map((o) => [o.port, o.start, o.end, o.cause, o.incidentId ?? '', o.excluded ? 'yes' : 'no', o.overCap ? 'yes' : 'no'])]),
  };
  return { number: row.id, title, html: template(view), pdf: await pdf(view, row.issuedOn), csv: documents };
}

interface PdfView {
  title: string;
  agreementName: string;
  periodText: string;
  number: string;
  issuedOn: string;
  issuerName: string;
  recipientName: string;
  references: string | null;
  currency: string;
  isNote: boolean;
  noteText: string;
  lines: { description: string; charger: string; payer: string; payee: string; net: string; vat: string; vatPercent: number; gross: string; settles: boolean }[];
  dueText: string;
  rounding: string;
  timeZone: string;
}

/** The PDF (pdfkit, its standard Helvetica): dated by the issue date, so the same statement gives the same bytes. */
function pdf(view: PdfView, issuedOn: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 48, info: { Title: view.title, Author: view.issuerName, Creator: 'Concierge', Producer: 'Concierge', CreationDate: new Date(`${issuedOn}T00:00:00Z`) } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.font('Helvetica-Bold').fontSize(16).text(view.title);
  doc.font('Helvetica').fontSize(10).fillColor('#444444').text(`${view.agreementName} · ${view.periodText}`).moveDown();
  doc.fillColor('#000000');
  for (const [label, value] of [['Number', view.number], ['Issued on', view.issuedOn], ['From', view.issuerName], ['To', view.recipientName], ['References', view.references ?? ''], ['Currency', view.currency]] as const) {
    if (value) doc.text(`${label}: ${value}`);
  }
  doc.moveDown();
  if (view.isNote) doc.text(view.noteText);
  else {
    for (const line of view.lines) {
      doc.font(line.settles ? 'Helvetica' : 'Helvetica-Oblique').text(`${line.description}${line.charger ? ` — ${line.charger}` : ''}`, { continued: false });
      // The standard fonts have no arrow: "to".
      doc.text(`${line.payer} to ${line.payee}    net ${line.net}    VAT ${line.vat} (${line.vatPercent}%)    gross ${line.gross}${line.settles ? '' : '    (information)'}`, { indent: 12 });
    }
    doc.moveDown().font('Helvetica-Bold').text(view.dueText);
  }
  doc.moveDown().font('Helvetica').fontSize(8).fillColor('#555555').text(`${view.rounding} Times are in ${view.timeZone}.`);
  doc.end();
  return done;
}
