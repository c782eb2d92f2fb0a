import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/activity';
import Handlebars from 'handlebars';
import { monthAt, type LifecycleTerms, type NoticeDeadline } from '../contracts/agreement-lifecycle.js';
import type { Agreement } from '../contracts/agreement.js';
import { MAIL_REFUSED, type Recipient } from '../contracts/notifications.js';
import { latestAgreementVersion } from '../agreements/store.js';
import type { Db } from '../db/connect.js';
import { MailRefusedError, type Mailer } from '../platform/mailer.js';

export type AgreementActivities = ReturnType<typeof createAgreementActivities>;

const template = (file: string, noEscape = false) => Handlebars.compile<ReminderView>(readFileSync(new URL(`../templates/${file}`, import.meta.url), 'utf8'), { strict: true, noEscape });
const reminderHtml = template('notice-reminder.hbs');
const reminderText = template('notice-reminder.txt.hbs', true);

interface ReminderView {
  subject: string;
  consequence: string;
  agreementId: string;
  agreementName: string;
  version: number;
  parties: string;
  termEnds: string;
  noticePeriodDays: number;
  deadline: string;
  timeZone: string;
}

/** The agreement workflow's side effects: read the terms in force, remind the parties of a notice deadline. */
export function createAgreementActivities(db: Db, mailer: Mailer) {
  return {
    /** The terms of the version in force (or of the last one, marked not in force once removed); null for an agreement never synced. */
    async agreementLifecycleTerms({ agreementId }: { agreementId: string }): Promise<LifecycleTerms | null> {
      const latest = await latestAgreementVersion(db, agreementId);
      if (!latest) return null;
      const first = await db.selectFrom('agreementVersions').select('effectiveFrom').where('agreementId', '=', agreementId).orderBy('version').limit(1).executeTakeFirstOrThrow();
      const agreement = latest.content as Agreement;
      const timeZone = agreement.sites[0]!.timeZone;
      return {
        agreementId,
        inForce: latest.removedAt === null,
        version: latest.version,
        timeZone,
        term: agreement.term,
        settlementDay: agreement.settlement.dayOfMonth,
        firstManagedMonth: monthAt(first.effectiveFrom, timeZone),
      };
    },

    /**
     * Mails the operator's and the venue's contacts (the settlement recipients if neither has one)
     * that notice to end the agreement must be given by the deadline, and records it. Sent once
     * per deadline: a recorded reminder is not sent again (a crash between sending and recording
     * sends it twice at most, with the same Message-ID).
     */
    async sendNoticeReminder({ agreementId, notice }: { agreementId: string; notice: Omit<NoticeDeadline, 'remindAt'> & { remindAt: string } }): Promise<{ sent: boolean }> {
      const key = `notice-reminder:${notice.deadline}`;
      const recorded = await db.selectFrom('agreementEvents').select('key').where('agreementId', '=', agreementId).where('key', '=', key).executeTakeFirst();
      if (recorded) return { sent: false };
      const latest = await latestAgreementVersion(db, agreementId);
      if (!latest) throw ApplicationFailure.nonRetryable(`agreement ${agreementId} is not in the database`, 'NotInForce');
      const agreement = latest.content as Agreement;
      const recipients = reminderRecipients(agreement);
      const view: ReminderView = {
        subject: `Notice deadline ${notice.deadline}: ${agreement.name}`,
        consequence:
          notice.renewal === 'none'
            ? `The agreement ends on ${notice.termEnds}. To extend it, or to end it early, the parties must act by ${notice.deadline}.`
            : `Unless notice is given by ${notice.deadline}, the agreement renews ${notice.renewal === 'auto-yearly' ? 'for a year' : 'for a month'} after ${notice.termEnds}.`,
        agreementId,
        agreementName: agreement.name,
        version: latest.version,
        parties: Object.values(agreement.parties)
          .map((p) => p.name)
          .join(', '),
        termEnds: notice.termEnds,
        noticePeriodDays: agreement.term.noticePeriodDays,
        deadline: notice.deadline,
        timeZone: agreement.sites[0]!.timeZone,
      };
      const { messageId } = await mailer
        .send({ key: `agreement:${agreementId}:${key}`, to: recipients, subject: view.subject, html: reminderHtml(view), text: reminderText(view), headers: { 'X-Concierge-Agreement': agreementId } })
        .catch((error: unknown) => {
          throw error instanceof MailRefusedError ? ApplicationFailure.nonRetryable(error.message, MAIL_REFUSED) : error;
        });
      await db
        .insertInto('agreementEvents')
        .values({ agreementId, key, kind: 'notice-reminder-sent', detail: JSON.stringify({ ...notice, messageId, to: recipients.map((r) => r.email) }) })
        .onConflict((oc) => oc.columns(['agreementId', 'key']).doNothing())
        .execute();
      return { sent: true };
    },
  };
}

/** The operator's and the venue's contacts, once each; the settlement recipients where neither has one. */
function reminderRecipients(agreement: Agreement): Recipient[] {
  const contacts = [agreement.ownership.operator, agreement.ownership.venue].map((ref) => agreement.parties[ref]?.contact).filter((c) => c !== undefined);
  const unique = [...new Map(contacts.map((c) => [c.email, { name: c.name, email: c.email }])).values()];
  return unique.length > 0 ? unique : agreement.settlement.recipients.map((email) => ({ name: email, email }));
}
