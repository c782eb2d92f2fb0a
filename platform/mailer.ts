import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer/lib/mailer';
import type { EscalationNotice, Recipient } from '../contracts/notifications.js';
import type { Logger } from './log.js';

export interface MailerOptions {
  /** `smtp://` or `smtps://` URL; unset: every message is written to `<dataDir>/outbox-mail/` as an .eml file. */
  smtpUrl: string | undefined;
  dataDir: string;
  /** The From address, e.g. `Concierge <concierge@example.com>`. */
  from: string;
  log: Logger;
  /** Where people reach Concierge (PUBLIC_URL): mails link to the incident there. */
  publicUrl?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface OutgoingMail extends RenderedMail {
  /** Unique per message; it makes the Message-ID (and the .eml file name), so a duplicate is recognisable. */
  key: string;
  to: Recipient[];
  headers?: Record<string, string>;
  attachments?: { filename: string; content: Buffer | string; contentType: string }[];
}

export interface Mailer {
  /** Where messages go, for the start-up log: the SMTP host or the outbox folder. */
  readonly destination: string;
  renderEscalation(notice: EscalationNotice): RenderedMail;
  /**
   * Sends one message; throws when it could not: `MailRefusedError` when the server said no for
   * good (a 5xx reply: unknown mailbox, relaying denied, bad credentials), a plain error for what
   * may pass (no connection, a timeout, a 4xx reply).
   */
  send(mail: OutgoingMail): Promise<{ messageId: string; rejected: string[] }>;
  close(): void;
}

/** The mail server refused the message with a permanent (5xx) reply: sending it again will not help. */
export class MailRefusedError extends Error {
  override name = 'MailRefused';
}

const templatesDir = new URL('../templates/', import.meta.url);

/** Nodemailer over SMTP_URL, or into `<dataDir>/outbox-mail/` so the embedded default needs no mail server. */
export function createMailer({ smtpUrl, dataDir, from, log, publicUrl }: MailerOptions): Mailer {
  const templates = {
    html: Handlebars.compile<EscalationView>(readFileSync(new URL('escalation.hbs', templatesDir), 'utf8'), { strict: true }),
    // Plain text is not HTML: nothing in it may be entity-escaped.
    text: Handlebars.compile<EscalationView>(readFileSync(new URL('escalation.txt.hbs', templatesDir), 'utf8'), { strict: true, noEscape: true }),
  };
  const deliver = smtpUrl ? smtpDelivery(smtpUrl) : fileDelivery(path.join(dataDir, 'outbox-mail'), log);

  return {
    destination: deliver.destination,

    renderEscalation(notice) {
      const view = escalationView(notice, publicUrl);
      return { subject: view.subject, text: templates.text(view), html: templates.html(view) };
    },

    async send(mail) {
      const message = {
        from,
        to: mail.to.map((r) => ({ name: r.name, address: r.email })),
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: messageIdOf(mail.key),
        attachments: mail.attachments,
        // RFC 3834: out-of-office replies and the like are not sent back to an automatic message.
        headers: { 'Auto-Submitted': 'auto-generated', ...mail.headers },
      };
      const result = await deliver.send(message, mail.key);
      const sent = { key: mail.key, messageId: result.messageId, to: message.to.map((r) => r.address), via: deliver.destination };
      // Some recipients refused (the others accepted): a retry would mail the others again, so it is only reported.
      if (result.rejected.length > 0) log.warn({ ...sent, rejected: result.rejected }, 'mail sent, but the server refused some recipients');
      else log.info(sent, 'mail sent');
      return result;
    },

    close: () => deliver.close(),
  };
}

/** `<key@concierge>`, with the characters a Message-ID may not hold (the key's colons) turned into dots. */
export function messageIdOf(key: string): string {
  const local = key.replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+/g, '.').replace(/^\.+|\.+$/g, '');
  return `<${local || 'mail'}@concierge>`;
}

interface Delivery {
  destination: string;
  send(message: SendMailOptions, key: string): Promise<{ messageId: string; rejected: string[] }>;
  close(): void;
}

function smtpDelivery(url: string): Delivery {
  // Short timeouts: a server that hangs should fail the attempt well inside the activity's timeout,
  // not deliver late while a retry sends the same mail again.
  const transport = nodemailer.createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  const { host, port } = new URL(url);
  return {
    destination: `smtp ${host}${port ? `:${port}` : ''}`,
    async send(message) {
      try {
        const info = await transport.sendMail(message);
        return { messageId: info.messageId, rejected: info.rejected.map(String) };
      } catch (error) {
        const { responseCode, response } = error as { responseCode?: number; response?: string };
        if (responseCode !== undefined && responseCode >= 500 && responseCode < 600) {
          throw new MailRefusedError(`${host} refused the mail: ${response ?? (error as Error).message}`, { cause: error });
        }
        throw error;
      }
    },
    close: () => transport.close(),
  };
}

function fileDelivery(dir: string, log: Logger): Delivery {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    destination: dir,
    async send(message, key) {
      const info = await transport.sendMail(message);
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${new Date().toISOString().replace(/:/g, '-')}-${key.replace(/[^A-Za-z0-9._-]+/g, '_')}.eml`);
      // Written aside and renamed, so whoever reads the folder never sees half a message.
      await writeFile(`${file}.part`, info.message);
      await rename(`${file}.part`, file);
      log.debug({ file }, 'mail written to the outbox folder');
      return { messageId: info.messageId, rejected: [] };
    },
    close: () => transport.close(),
  };
}

interface Instant {
  iso: string;
  human: string;
}

interface EscalationView {
  subject: string;
  headline: string;
  priority: string;
  site: string;
  siteAddress: string | null;
  charger: string;
  status: string;
  faultSummary: string;
  openedAt: Instant;
  clockName: string;
  clockMeaning: string;
  clockHint: string;
  deadline: Instant | null;
  percentElapsed: string;
  breached: boolean;
  trigger: string;
  notice: string;
  incidentId: string;
  incidentUrl: string | null;
  offlineChargers: string | null;
  level: number;
  agreementName: string | null;
}

function escalationView(n: EscalationNotice, publicUrl: string | undefined): EscalationView {
  const zone = n.timeZone ?? 'UTC';
  const instant = (iso: string) => instantIn(iso, zone);
  const charger = n.connectorId === 0 ? `charger ${n.chargerId}` : `charger ${n.chargerId} connector ${n.connectorId}`;
  const repeat = n.repeat > 0 ? ` (repeat ${n.repeat})` : '';
  const headline = `Escalation level ${n.level} — ${charger} ${n.trigger}${repeat}`;
  return {
    // A header is one line whatever the values hold.
    subject: `[${n.priority}] ${headline}`.replace(/\s+/g, ' '),
    headline,
    priority: n.priority,
    site: n.siteName ?? 'no site on record',
    siteAddress: n.siteAddress,
    charger: n.connectorId === 0 ? `${n.chargerId} (the whole charger)` : `${n.chargerId}, connector ${n.connectorId}`,
    status: n.status,
    faultSummary: n.faultSummary,
    openedAt: instant(n.openedAt),
    clockName: n.clock === 'response' ? 'Response' : 'Fix',
    clockMeaning: n.clock === 'response' ? 'time to acknowledge the incident' : 'time to resolve the incident',
    clockHint: n.clock === 'response' ? 'Acknowledging the incident stops its response clock.' : 'Resolving the incident stops its fix clock.',
    deadline: n.deadline === null ? null : instant(n.deadline),
    percentElapsed: `${Math.floor(n.percentElapsed)}% of the target`,
    breached: n.percentElapsed >= 100,
    trigger: n.trigger,
    notice: n.repeat === 0 ? 'first notice of this level' : `repeat ${n.repeat} of this level`,
    incidentId: n.incidentId,
    incidentUrl: publicUrl ? `${publicUrl.replace(/\/+$/, '')}/api/incidents/${n.incidentId}` : null,
    offlineChargers: n.offlineChargers?.length ? n.offlineChargers.join(', ') : null,
    level: n.level,
    agreementName: n.agreementName,
  };
}

/** An instant as people at the site read it, the zone named ("Fri 27 Mar 2026, 17:30 (Europe/Vienna, UTC+01:00)"), beside its ISO form in UTC. */
function instantIn(iso: string, zone: string): Instant {
  const at = DateTime.fromISO(iso, { zone: 'utc' });
  if (!at.isValid) return { iso, human: iso };
  const local = at.setZone(zone);
  const human = local.isValid && zone !== 'UTC' ? `${local.toFormat('ccc d LLL yyyy, HH:mm')} (${zone}, UTC${local.toFormat('ZZ')})` : at.toFormat("ccc d LLL yyyy, HH:mm 'UTC'");
  return { iso: at.toISO()!, human };
}
