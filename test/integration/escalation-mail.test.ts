import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/activity';
import { createNotificationActivities } from '../../activities/notifications.js';
import { MAIL_REFUSED, type EscalationNotice } from '../../contracts/notifications.js';
import type { Db } from '../../db/connect.js';
import { createLogger } from '../../platform/log.js';
import { createMailer, type Mailer } from '../../platform/mailer.js';
import { databaseKinds, openTestDatabase } from '../support/databases.js';
import { parseMail, startSmtpServer } from '../support/mail.js';

const log = createLogger('silent');
const FROM = 'Concierge NOC <noc@concierge.test>';

function notice(incidentId: string, overrides: Partial<EscalationNotice> = {}): EscalationNotice {
  return {
    key: `${incidentId}:L1:response1:0`,
    incidentId,
    level: 1,
    trigger: 'unacknowledged for 30 min',
    repeat: 0,
    recipients: [
      { name: 'Alpine NOC', email: 'noc@alpina.example' },
      { name: 'Müller, Facility', email: 'facility@alpina.example' },
    ],
    chargerId: 'HOTEL-ALPS-01',
    connectorId: 1,
    priority: 'P2',
    siteName: 'Hotel Alpina & Spa',
    siteAddress: 'Dorfstraße 1, 6020 Innsbruck',
    agreementName: 'Hotel Alpina turnkey O&M',
    status: 'opened',
    openedAt: '2026-03-27T16:30:00.000Z',
    clock: 'response',
    deadline: '2026-03-27T17:30:00.000Z',
    percentElapsed: 50.8,
    faultSummary: 'GroundFailure <script>alert("pwned")</script>',
    timeZone: 'Europe/Vienna',
    ...overrides,
  };
}

describe.each(databaseKinds)('escalation mail (%s)', (kind) => {
  let db: Db;
  let disposeDb: () => Promise<void>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let mailer: Mailer;
  let dataDir: string;

  beforeAll(async () => {
    ({ db, dispose: disposeDb } = await openTestDatabase(kind));
    smtp = await startSmtpServer();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-mail-'));
    mailer = createMailer({ smtpUrl: smtp.url, dataDir, from: FROM, log, publicUrl: 'https://concierge.example/' });
  });

  afterAll(async () => {
    mailer?.close();
    await smtp?.close();
    await disposeDb?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends the notice over SMTP, escaped in HTML and verbatim in text, and records it', async () => {
    const incidentId = randomUUID();
    const { sendEscalation } = createNotificationActivities(db, mailer);
    const sent = await sendEscalation(notice(incidentId));

    expect(sent).toEqual({ sent: true, messageId: `<${incidentId}.L1.response1.0@concierge>` });
    expect(smtp.received).toHaveLength(1);
    const [delivered] = smtp.received;
    expect(delivered!.mailFrom).toBe('noc@concierge.test');
    expect(delivered!.rcptTo).toEqual(['noc@alpina.example', 'facility@alpina.example']);

    const mail = parseMail(delivered!.raw);
    expect(mail.headers.get('subject')).toBe('[P2] Escalation level 1 — charger HOTEL-ALPS-01 connector 1 unacknowledged for 30 min');
    expect(mail.headers.get('message-id')).toBe(sent.messageId);
    expect(mail.headers.get('from')).toBe('Concierge NOC <noc@concierge.test>');
    // The second name is one encoded word, comma included (RFC 2047), so a plain decode shows no quotes.
    expect(mail.headers.get('to')).toBe('Alpine NOC <noc@alpina.example>, Müller, Facility <facility@alpina.example>');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.headers.get('x-concierge-incident')).toBe(incidentId);

    const facts = [
      'Hotel Alpina & Spa',
      'Dorfstraße 1, 6020 Innsbruck',
      'HOTEL-ALPS-01, connector 1',
      'P2',
      'opened',
      // The site's time, its zone named (Vienna is UTC+1 until the last Sunday of March).
      'Fri 27 Mar 2026, 17:30 (Europe/Vienna, UTC+01:00)',
      'Response — time to acknowledge the incident',
      'Fri 27 Mar 2026, 18:30 (Europe/Vienna, UTC+01:00)',
      '2026-03-27T17:30:00.000Z',
      '50% of the target',
      'unacknowledged for 30 min',
      'first notice of this level',
      incidentId,
      `https://concierge.example/api/incidents/${incidentId}`,
      'escalation level 1 of the service agreement',
    ];
    const text = mail.text!;
    for (const fact of facts) expect(text).toContain(fact);
    expect(text).toContain('GroundFailure <script>alert("pwned")</script>');
    expect(text).toContain('"Hotel Alpina turnkey O&M"');
    expect(text).not.toContain('&amp;');

    const html = mail.html!;
    for (const fact of facts) expect(html).toContain(fact.replace(/&/g, '&amp;'));
    expect(html).toContain('GroundFailure &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('the target has passed');
    expect(text).not.toContain('the target has passed');

    const row = await db.selectFrom('notifications').selectAll().where('key', '=', `${incidentId}:L1:response1:0`).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      incidentId,
      level: 1,
      trigger: 'unacknowledged for 30 min',
      recipients: notice(incidentId).recipients,
      subject: '[P2] Escalation level 1 — charger HOTEL-ALPS-01 connector 1 unacknowledged for 30 min',
      messageId: sent.messageId,
    });
    expect(row.sentAt).toBeInstanceOf(Date);
  });

  it('lists a whole-site incident’s offline chargers, and shows UTC, named, when no zone is known', async () => {
    const incidentId = randomUUID();
    const { sendEscalation } = createNotificationActivities(db, mailer);
    const siteDown = notice(incidentId, { chargerId: 'site:alpina', connectorId: 0, priority: 'P1', timeZone: null, offlineChargers: ['ALPINA-01', 'ALPINA-02', 'ALPINA-03'] });
    await sendEscalation(siteDown);
    const mail = parseMail(smtp.received.at(-1)!.raw);
    expect(mail.text).toContain('Offline:    ALPINA-01, ALPINA-02, ALPINA-03');
    expect(mail.html).toContain('<th align="left" valign="top">Offline</th><td>ALPINA-01, ALPINA-02, ALPINA-03</td>');
    expect(mail.text).toContain('Opened:     Fri 27 Mar 2026, 16:30 UTC');
  });

  it('sends nothing the second time for the same key', async () => {
    const incidentId = randomUUID();
    const { sendEscalation } = createNotificationActivities(db, mailer);
    const before = smtp.received.length;
    expect((await sendEscalation(notice(incidentId))).sent).toBe(true);
    expect(await sendEscalation(notice(incidentId))).toEqual({ sent: false, messageId: null });
    expect(smtp.received.length).toBe(before + 1);
    const rows = await db.selectFrom('notifications').select('key').where('incidentId', '=', incidentId).execute();
    expect(rows).toHaveLength(1);
  });

  it('gives up on a mail the server refuses for good (550), retries one it refuses for now (451), and records neither', async () => {
    const incidentId = randomUUID();
    for (const code of [550, 451] as const) {
      const refusing = await startSmtpServer({ refuseRecipients: code });
      const refusingMailer = createMailer({ smtpUrl: refusing.url, dataDir, from: FROM, log });
      try {
        const { sendEscalation } = createNotificationActivities(db, refusingMailer);
        const failure = await sendEscalation(notice(incidentId)).catch((error: unknown) => error);
        if (code === 550) {
          // Temporal does not retry it; the incident records the refusal (incident-workflow.test.ts).
          expect(failure).toBeInstanceOf(ApplicationFailure);
          expect(failure).toMatchObject({ type: MAIL_REFUSED, nonRetryable: true, message: expect.stringMatching(/refused the mail: 550 .*unavailable/) });
        } else {
          expect(failure).toBeInstanceOf(Error);
          expect(failure).not.toBeInstanceOf(ApplicationFailure);
          expect((failure as Error).message).toMatch(/451/);
        }
        expect(refusing.received).toHaveLength(0);
        expect(await db.selectFrom('notifications').select('key').where('incidentId', '=', incidentId).execute()).toEqual([]);
      } finally {
        refusingMailer.close();
        await refusing.close();
      }
    }
    // The retry, once the server accepts again, sends it.
    const { sendEscalation: retry } = createNotificationActivities(db, mailer);
    expect((await retry(notice(incidentId))).sent).toBe(true);
  });

  it('writes an .eml file under DATA_DIR/outbox-mail when no SMTP server is configured', async () => {
    const fileDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-outbox-'));
    const fileMailer = createMailer({ smtpUrl: undefined, dataDir: fileDir, from: FROM, log });
    try {
      const incidentId = randomUUID();
      const { sendEscalation } = createNotificationActivities(db, fileMailer);
      const repeat = notice(incidentId, {
        key: `${incidentId}:L2:fix1:1`,
        level: 2,
        trigger: 'fix-breached',
        repeat: 1,
        connectorId: 0,
        priority: 'P1',
        agreementName: null,
        siteAddress: null,
        status: 'dispatched',
        clock: 'fix',
        deadline: null,
        percentElapsed: 112.4,
      });
      const sent = await sendEscalation(repeat);
      expect(sent).toEqual({ sent: true, messageId: `<${incidentId}.L2.fix1.1@concierge>` });

      const outbox = path.join(fileDir, 'outbox-mail');
      const files = readdirSync(outbox);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}Z-${incidentId}_L2_fix1_1\\.eml$`));
      const raw = readFileSync(path.join(outbox, files[0]!), 'utf8');
      expect(raw).toContain('\r\n');
      const mail = parseMail(raw);
      expect(mail.headers.get('subject')).toBe('[P1] Escalation level 2 — charger HOTEL-ALPS-01 fix-breached (repeat 1)');
      expect(mail.headers.get('message-id')).toBe(sent.messageId);
      expect(mail.headers.get('to')).toContain('facility@alpina.example');
      for (const fact of ['HOTEL-ALPS-01 (the whole charger)', 'Fix — time to resolve the incident', 'none while the clock is paused', '112% of the target — the target has passed', 'repeat 1 of this level', 'Resolving the incident stops its fix clock.']) {
        expect(mail.text).toContain(fact);
      }
      expect(mail.text).toContain('a contact of escalation level 2.');
      expect(mail.html).toContain('<strong>the target has passed</strong>');

      expect(await sendEscalation(repeat)).toEqual({ sent: false, messageId: null });
      expect(readdirSync(outbox)).toHaveLength(1);
    } finally {
      fileMailer.close();
      rmSync(fileDir, { recursive: true, force: true });
    }
  });
});
