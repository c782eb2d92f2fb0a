import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import type { Agreement } from '../contracts/agreement.js';
import { formatMoney, money, roundMoney } from '../contracts/money.js';
import { settleMonth, type Statement } from '../contracts/settlement.js';
import { decimalJson } from '../contracts/tariff.js';
import type { Db } from '../db/connect.js';
import { priceEndedSessions } from './cdrs.js';
import { monthFigures, monthPeriod, type MonthEvidence } from './month-figures.js';
import { stableJson } from './store.js';

export interface IssuedStatement {
  statementId: string;
  revision: number;
  /** Issued by this call; false when the month's latest revision already had these inputs. */
  newlyIssued: boolean;
  /** The credit or debit note for the difference from the revision before, when one was issued. */
  noteId: string | null;
}

/**
 * Settles an agreement's month: prices the month's sessions not yet priced, computes the statement
 * from the month's figures, and issues it — unless the month's latest revision was computed from the
 * same inputs (the hash of its figures), in which case nothing is issued and that revision is the
 * answer. A changed month issues revision n+1 and, when what is due changed, a credit or debit note
 * for the difference referencing revision n. Numbers are taken without gaps per issuing party and
 * year, in the statement's own transaction; one settlement of a month runs at a time (a lock).
 * Every date and id in a statement comes from its data: its issue date is the agreement's
 * settlement day after the month, or, for a later revision, the day its newest input (a CDR) was issued.
 */
export async function issueStatement(db: Db, agreement: Agreement, agreementVersion: number, month: string, now = new Date()): Promise<IssuedStatement> {
  const period = monthPeriod(agreement, month);
  if (period.end > now) throw new Error(`${month} has not ended in ${agreement.sites[0]!.timeZone}: a month is settled once it is over`);
  while ((await priceEndedSessions(db, { endedBefore: period.end })) > 0);
  const { figures, evidence } = await monthFigures(db, agreement, month, now);
  const statement = settleMonth(figures);
  const { agreement: _terms, ...inputs } = figures;
  const inputsHash = createHash('sha256')
    .update(stableJson({ agreementVersion, inputs: JSON.parse(JSON.stringify(inputs)) as unknown }))
    .digest('hex');
  const newestInput = await db
    .selectFrom('cdrs')
    .select((eb) => eb.fn.max('issuedAt').as('at'))
    .where('agreementId', '=', agreement.id)
    .where('endDateTime', '>=', period.start)
    .where('endDateTime', '<', period.end)
    .executeTakeFirst();

  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`concierge:settlement:${agreement.id}:${month}`}))`.execute(trx);
    const latest = await trx
      .selectFrom('statements')
      .select(['id', 'revision', 'inputsHash', 'due', 'issuedOn'])
      .where('agreementId', '=', agreement.id)
      .where('month', '=', month)
      .where('kind', '=', 'statement')
      .orderBy('revision', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (latest?.inputsHash === inputsHash) return { statementId: latest.id, revision: latest.revision, newlyIssued: false, noteId: null };

    const zone = agreement.sites[0]!.timeZone;
    const settlementDay = DateTime.fromISO(`${month}-01`, { zone }).plus({ months: 1 }).set({ day: agreement.settlement.dayOfMonth }).toISODate()!;
    const newest = newestInput?.at ? DateTime.fromJSDate(new Date(newestInput.at), { zone }).toISODate()! : settlementDay;
    const issuedOn = latest ? [settlementDay, newest, latest.issuedOn].sort().at(-1)! : settlementDay;
    const revision = (latest?.revision ?? 0) + 1;
    const due = signedDue(statement);
    const base = {
      agreementId: agreement.id,
      agreementVersion,
      month,
      revision,
      issuer: statement.operator,
      recipient: statement.venue,
      currency: statement.currency,
      periodStart: period.start,
      periodEnd: period.end,
      issuedOn,
      inputsHash,
    };
    const statementId = await nextNumber(trx, statement.operator, issuedOn);
    await trx
      .insertInto('statements')
      .values({ ...base, ...statementId, kind: 'statement', referencesId: latest?.id ?? null, due: formatMoney(due, statement.currency), content: decimalJson({ statement, evidence: evidenceSummary(evidence) }, 0) })
      .execute();

    let noteId: string | null = null;
    const difference = latest ? roundMoney(due.minus(money(latest.due)), statement.currency) : money(0);
    if (latest && !difference.isZero()) {
      const note = await nextNumber(trx, statement.operator, issuedOn);
      const kind = difference.gt(0) ? 'debit-note' : 'credit-note';
      const content = { kind, replaces: latest.id, by: statementId.id, previousDue: money(latest.due), due, difference, currency: statement.currency };
      await trx.insertInto('statements').values({ ...base, ...note, kind, referencesId: latest.id, due: formatMoney(difference, statement.currency), content: decimalJson(content, 0) }).execute();
      noteId = note.id;
    }
    return { statementId: statementId.id, revision, newlyIssued: true, noteId };
  });
}

/** What the venue owes the operator (negative: the operator owes the venue). */
function signedDue(statement: Statement) {
  return statement.due.payer === statement.venue ? statement.due.amount : statement.due.amount.negated();
}

/** The next number of an issuing party in the year of the issue date, without gaps: `CHARGEOPS-2026-00001`. */
async function nextNumber(trx: Db, issuer: string, issuedOn: string): Promise<{ id: string; year: number; seq: number }> {
  const year = Number(issuedOn.slice(0, 4));
  const row = await trx
    .insertInto('statementNumbers')
    .values({ issuer, year, last: 1 })
    .onConflict((oc) => oc.columns(['issuer', 'year']).doUpdateSet((eb) => ({ last: eb('statementNumbers.last', '+', 1) })))
    .returning('last')
    .executeTakeFirstOrThrow();
  return { id: `${issuer.toUpperCase()}-${year}-${String(row.last).padStart(5, '0')}`, year, seq: row.last };
}

/** The evidence a statement keeps: each port's figures and traced outages, and the breached incidents. */
function evidenceSummary(evidence: MonthEvidence) {
  return {
    ports: evidence.ports.map((p) => ({ chargerId: p.chargerId, connectorId: p.connectorId, uptimePercent: p.uptimePercent, outageMinutes: p.outageMinutes, excludedMinutes: p.excludedMinutes, outages: p.outages })),
    breachedIncidents: evidence.breachedIncidents,
  };
}
