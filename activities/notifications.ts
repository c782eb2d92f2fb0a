import { ApplicationFailure } from '@temporalio/activity';
import { MAIL_REFUSED, type EscalationNotice } from '../contracts/notifications.js';
import type { Db } from '../db/connect.js';
import { MailRefusedError, type Mailer } from '../platform/mailer.js';

/** Escalation e-mails: rendered, sent, and recorded in `notifications` by their key. */
export function createNotificationActivities(db: Db, mailer: Mailer) {
  return {
    /**
     * Sends the notice unless its key is already recorded. The mail goes out first and is recorded
     * after: a crash between the two sends it again on the retry (at most one duplicate, with the
     * same Message-ID), whereas recording first could lose it for good. A failed send throws, and
     * Temporal retries it, unless the server refused it for good (`MailRefused`, not retried).
     */
    async sendEscalation(notice: EscalationNotice): Promise<{ sent: boolean; messageId: string | null }> {
      const recorded = await db.selectFrom('notifications').select('key').where('key', '=', notice.key).executeTakeFirst();
      if (recorded) return { sent: false, messageId: null };

      const mail = mailer.renderEscalation(notice);
      const { messageId } = await mailer
        .send({
          ...mail,
          key: notice.key,
          to: notice.recipients,
          headers: { 'X-Concierge-Incident': notice.incidentId, 'X-Concierge-Priority': notice.priority },
        })
        .catch((error: unknown) => {
          throw error instanceof MailRefusedError ? ApplicationFailure.nonRetryable(error.message, MAIL_REFUSED) : error;
        });
      await db
        .insertInto('notifications')
        .values({
          key: notice.key,
          incidentId: notice.incidentId,
          level: notice.level,
          trigger: notice.trigger,
          recipients: JSON.stringify(notice.recipients),
          subject: mail.subject,
          messageId,
          sentAt: new Date(),
        })
        // Two attempts racing (a slow one and its retry) both sent; the first to record wins.
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      return { sent: true, messageId };
    },
  };
}
