/** Someone an escalation e-mail goes to (an agreement's escalation contact). */
export interface Recipient {
  name: string;
  email: string;
}

/**
 * One escalation notice, as the incident workflow asks for it. `key` is unique per incident, level
 * and repetition, so a retried activity sends nothing twice.
 */
export interface EscalationNotice {
  key: string;
  incidentId: string;
  level: number;
  /** e.g. 'unacknowledged-for 30m', 'fix-elapsed 75%', 'fix-breached'. */
  trigger: string;
  /** 0 for the first notice of a level, 1.. for its repeats. */
  repeat: number;
  recipients: Recipient[];
  chargerId: string;
  connectorId: number;
  priority: string;
  siteName: string | null;
  siteAddress: string | null;
  agreementName: string | null;
  status: string;
  openedAt: string;
  /** The clock the trigger is about, its deadline and how much of it has elapsed. */
  clock: 'response' | 'fix';
  deadline: string | null;
  percentElapsed: number;
  faultSummary: string;
  /** The zone the mail shows times in: the site's (absent, or null: UTC). */
  timeZone?: string | null;
  /** A whole-site incident's chargers that are offline. */
  offlineChargers?: string[];
}

/** The failure type of a notice the mail server refused for good (a 5xx reply); it is not retried. */
export const MAIL_REFUSED = 'MailRefused';

/** The activity the incident workflow calls to send a notice; implemented in activities/notifications.ts. */
export interface NotificationActivities {
  sendEscalation(notice: EscalationNotice): Promise<{ sent: boolean; messageId: string | null }>;
}
