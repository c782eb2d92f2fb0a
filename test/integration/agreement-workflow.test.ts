import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { syncAgreements } from '../../agreements/store.js';
import { parseAgreement, type Agreement } from '../../contracts/agreement.js';
import alpinaInput from '../../contracts/agreements/hotel-alpina.js';
import { settlementWorkflowId } from '../../contracts/settlement-process.js';
import type { Db } from '../../db/connect.js';
import { createLogger } from '../../platform/log.js';
import { createMailer } from '../../platform/mailer.js';
import { findTemporalTestServer } from '../../runtime/temporal-dev-server.js';
import { followAgreements } from '../../workflow-clients/agreements.js';
import { agreementQuery, agreementWorkflowId } from '../../workflows/agreement/workflow.js';
import { settlementQuery } from '../../workflows/settlement/workflow.js';
import { eventually, uniqueId } from '../support/app.js';
import { openTestDatabase } from '../support/databases.js';
import { captureHistories } from '../support/histories.js';
import { parseMail, startSmtpServer } from '../support/mail.js';

/**
 * The agreement workflow on the time-skipping test server: months of settlement days and a notice
 * deadline pass in seconds. Its settlements run for real (statements issued into PGlite), and its
 * reminder goes to a real SMTP server.
 */
describe('agreement workflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let disposeDb: () => Promise<void>;
  let worker: Worker;
  let running: Promise<void>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const taskQueue = uniqueId('agreement-wf');
  const id = 'alpina-life';
  // Alpina (settles on the 5th, Vienna), whose first term ends 2027-03-31 with 60 days' notice: notice by 2027-01-31, reminded from 2027-01-01.
  const agreement = parsed({ ...alpinaInput, id, term: { start: '2026-01-01', end: '2027-03-31', renewal: 'auto-yearly', noticePeriodDays: 60 } });
  const view = () => env.client.workflow.getHandle(agreementWorkflowId(id)).query(agreementQuery);
  const settlement = (month: string) => env.client.workflow.getHandle(settlementWorkflowId(id, month)).query(settlementQuery);
  const statementMonths = async () => (await db.selectFrom('statements').select('month').where('agreementId', '=', id).where('kind', '=', 'statement').orderBy('month').execute()).map((r) => r.month);

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: findTemporalTestServer() } } });
    ({ db, dispose: disposeDb } = await openTestDatabase('pglite'));
    smtp = await startSmtpServer();
    const mailer = createMailer({ smtpUrl: smtp.url, dataDir: '/nonexistent', from: 'Concierge <concierge@test.example>', log: createLogger('silent') });
    const activities = createActivities(db, { mailer, now: async () => new Date(await env.currentTimeMs()) });
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') }, activities });
    running = worker.run();
    // Concierge has known the agreement since mid-August: August is its first month to settle.
    await syncAgreements(db, [agreement], new Date('2026-08-14T10:00:00Z'));
  });

  afterAll(async () => {
    if (env) await captureHistories(env.client, 'agreement-workflow', { workflowIds: [agreementWorkflowId(id), ...['2026-08', '2026-09', '2026-10', '2026-11', '2026-12'].map((m) => settlementWorkflowId(id, m))], liveTaskQueue: taskQueue });
    worker?.shutdown();
    await running;
    await env?.teardown();
    await disposeDb?.();
    await smtp?.close();
  });

  it('settles every month missed since Concierge took the agreement on, then sleeps until the next settlement day', async () => {
    const now = new Date(await env.currentTimeMs());
    expect(now < new Date('2026-12-05T05:00:00Z'), 'this test expects to start before 5 December 2026').toBe(true);
    await followAgreements(env.client, taskQueue, { inForce: [id], removed: [] });
    // Settled through October, and asleep (its wake-up set once it has looked again and found nothing due).
    const asleep = await eventually(async () => {
      const state = await view();
      return state.settledThrough === '2026-10' && state.wakeAt ? state : null;
    }, 20_000, 'August to October settled');
    expect(asleep).toMatchObject({ version: 1, wakeAt: '2026-12-05T05:00:00.000Z', remindedDeadlines: [] });
    // Each month's settlement runs on its own: issued, and waiting for an account manager (Alpina asks for approval).
    for (const month of ['2026-08', '2026-09', '2026-10']) await eventually(async () => (await settlement(month)).status === 'awaiting-approval', 20_000, `${month} awaiting approval`);
    expect(await statementMonths()).toEqual(['2026-08', '2026-09', '2026-10']);
    // Started again (a restart syncs and signals): nothing is settled twice.
    await followAgreements(env.client, taskQueue, { inForce: [id], removed: [] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await view()).settledThrough).toBe('2026-10');
  });

  it('follows a new version: an earlier settlement day settles November at once', async () => {
    await syncAgreements(db, [{ ...agreement, settlement: { ...agreement.settlement, dayOfMonth: 1 } }], new Date(await env.currentTimeMs()));
    await followAgreements(env.client, taskQueue, { inForce: [id], removed: [] });
    const asleep = await eventually(async () => {
      const state = await view();
      return state.settledThrough === '2026-11' && state.wakeAt !== '2026-12-05T05:00:00.000Z' ? state : null;
    }, 20_000, 'November settled under version 2');
    expect(asleep).toMatchObject({ version: 2, wakeAt: '2027-01-01T05:00:00.000Z' });
    await eventually(async () => (await settlement('2026-11')).status === 'awaiting-approval', 20_000, 'November awaiting approval');
  });

  it('on the settlement day settles the month before, and reminds the parties of the notice deadline once', async () => {
    // To 2 January 2027, 12:00 Vienna: past December's settlement (1 January, 06:00) and the reminder (1 January, 09:00).
    await env.sleep(new Date('2027-01-02T11:00:00Z').getTime() - (await env.currentTimeMs()));
    await eventually(async () => (await view()).settledThrough === '2026-12', 20_000, 'December settled');
    await eventually(async () => (await view()).remindedDeadlines.includes('2027-01-31'), 20_000, 'the notice reminder sent');
    await eventually(async () => (await settlement('2026-12')).status === 'awaiting-approval', 20_000, 'December awaiting approval');
    expect(await statementMonths()).toEqual(['2026-08', '2026-09', '2026-10', '2026-11', '2026-12']);

    const reminders = smtp.received.filter((m) => parseMail(m.raw).headers.get('subject')?.startsWith('Notice deadline'));
    expect(reminders).toHaveLength(1);
    const mail = parseMail(reminders[0]!.raw);
    expect(mail.headers.get('subject')).toBe(`Notice deadline 2027-01-31: ${agreement.name}`);
    // The operator's and the venue's contacts.
    expect(reminders[0]!.rcptTo.sort()).toEqual(['facilities@hotel-alpina.example', 'noc@chargeops.example']);
    expect(mail.text).toContain('Unless notice is given by 2027-01-31, the agreement renews for a year after 2027-03-31.');
    expect(mail.text).toContain('Notice period:  60 days');
    const recorded = await db.selectFrom('agreementEvents').select(['key', 'kind']).where('agreementId', '=', id).execute();
    expect(recorded).toEqual([{ key: 'notice-reminder:2027-01-31', kind: 'notice-reminder-sent' }]);
    // Next: the day after the deadline (midnight in Vienna), to find the next deadline; February's settlement day comes after.
    await eventually(async () => (await view()).wakeAt === '2027-01-31T23:00:00.000Z', 20_000, 'asleep until the day after the deadline');
  });

  it('ends when the agreement is removed', async () => {
    const removed = await syncAgreements(db, [], new Date(await env.currentTimeMs()));
    expect(removed.removed).toEqual([id]);
    await followAgreements(env.client, taskQueue, { inForce: [], removed: [id] });
    const result = await env.client.workflow.getHandle(agreementWorkflowId(id)).result();
    expect(result).toMatchObject({ agreementId: id, settledThrough: '2026-12', remindedDeadlines: ['2027-01-31'] });
  });
});

function parsed(input: unknown): Agreement {
  const result = parseAgreement(input);
  if (!result.agreement) throw new Error(JSON.stringify(result.problems));
  return result.agreement;
}
