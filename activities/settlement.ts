import { ApplicationFailure } from '@temporalio/common';
import { monthPeriod } from '../agreements/month-figures.js';
import { latestAgreementVersion } from '../agreements/store.js';
import type { Agreement } from '../contracts/agreement.js';
import { issueStatement } from '../agreements/statements.js';
import { statementDocuments } from '../agreements/statement-documents.js';
import type { Db } from '../db/connect.js';
import type { Mailer } from '../platform/mailer.js';

export type SettlementActivities = ReturnType<typeof createSettlementActivities>;

/** The settlement workflow's side effects: issue the month's statement, record what happens to it, send it. */
export function createSettlementActivities(db: Db, mailer: Mailer, { now }: { now: () => Promise<Date> }) {
  return {
    /** Issues the month under the agreement version in force (or finds it unchanged); says whether it waits for approval and was sent. */
    async issueMonthStatement({ agreementId, month }: { agreementId: string; month: string }) {
      const version = await latestAgreementVersion(db, agreementId);
      // Neither can change by trying again: fail for good.
      if (!version || version.removedAt) throw ApplicationFailure.nonRetryable(`agreement ${agreementId} is not in force`, 'NotSettleable');
      const agreement = version.content as Agreement;
      const at = await now();
      if (monthPeriod(agreement, month).end > at) throw ApplicationFailure.nonRetryable(`${month} has not ended: a month is settled once it is over`, 'NotSettleable');
      const issued = await issueStatement(db, agreement, version.version, month, at);
      const events = await db.selectFrom('statementEvents').select('kind').where('statementId', '=', issued.statementId).execute();
      return {
        ...issued,
        needsApproval: agreement.settlement.approvalBeforeSending && !events.some((e) => e.kind === 'approved'),
        sent: events.some((e) => e.kind === 'sent'),
      };
    },

    async recordStatementEvent({ statementId, kind, actor, detail }: { statementId: string; kind: string; actor: string | null; detail?: Record<string, unknown> }) {
      await db.insertInto('statementEvents').values({ statementId, kind, actor, at: new Date(), detail: detail ? JSON.stringify(detail) : null }).execute();
    },

    /**
     * Mails the statement (and its note) to the agreement's settlement recipients: the HTML as the
     * body, the PDF and the three CSVs attached; recorded as sent. Sent once: a retry after a
     * recorded sending sends nothing.
     */
    async sendStatement({ statementId, noteId }: { statementId: string; noteId: string | null }) {
      const already = await db.selectFrom('statementEvents').select('id').where('statementId', '=', statementId).where('kind', '=', 'sent').executeTakeFirst();
      if (already) return { sent: false };
      const statement = await db.selectFrom('statements').select(['agreementId', 'agreementVersion']).where('id', '=', statementId).executeTakeFirstOrThrow();
      const version = await db.selectFrom('agreementVersions').select('content').where('agreementId', '=', statement.agreementId).where('version', '=', statement.agreementVersion).executeTakeFirstOrThrow();
      const recipients = (version.content as { settlement: { recipients: string[] } }).settlement.recipients;
      const documents = (await statementDocuments(db, statementId))!;
      const note = noteId ? await statementDocuments(db, noteId) : null;
      const base = documents.number;
      const result = await mailer.send({
        key: `statement:${statementId}`,
        to: recipients.map((email) => ({ name: email, email })),
        subject: documents.title,
        html: documents.html,
        text: `${documents.title}\n\nThe statement is attached as PDF, with CSV files of its lines, sessions and outages.${note ? `\n${note.title} is attached too.` : ''}`,
        attachments: [
          { filename: `${base}.pdf`, content: documents.pdf, contentType: 'application/pdf' },
          { filename: `${base}-lines.csv`, content: documents.csv.lines, contentType: 'text/csv' },
          { filename: `${base}-sessions.csv`, content: documents.csv.sessions, contentType: 'text/csv' },
          { filename: `${base}-outages.csv`, content: documents.csv.outages, contentType: 'text/csv' },
          ...(note ? [{ filename: `${note.number}.pdf`, content: note.pdf, contentType: 'application/pdf' }] : []),
        ],
      });
      await db
        .insertInto('statementEvents')
        .values({ statementId, kind: 'sent', actor: null, at: new Date(), detail: JSON.stringify({ messageId: result.messageId, to: recipients, rejected: result.rejected, note: noteId }) })
        .execute();
      return { sent: true };
    },
  };
}
