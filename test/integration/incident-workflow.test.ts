import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { businessTimeBetween, type BusinessCalendar } from '../../contracts/calendar.js';
import { DEFAULT_INCIDENT_RULES, type Actor, type IncidentRules, type FaultReport, type IncidentInput } from '../../contracts/incident.js';
import { clockState } from '../../contracts/sla-clock.js';
import type { Db } from '../../db/connect.js';
import { createLogger } from '../../platform/log.js';
import { createMailer } from '../../platform/mailer.js';
import { findTemporalTestServer } from '../../runtime/temporal-dev-server.js';
import {
  accept,
  acknowledge,
  arrive,
  assign,
  cancel,
  chargerReported,
  diagnose,
  faultReported,
  fix,
  incidentQuery,
  pause,
  resolve,
  resume,
} from '../../workflows/incident/messages.js';
import { incidentWorkflow } from '../../workflows/incident/workflow.js';
import { eventually, uniqueId } from '../support/app.js';
import { captureHistories } from '../support/histories.js';
import { openTestDatabase } from '../support/databases.js';
import { startSmtpServer, tempOutboxMailer } from '../support/mail.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const dispatcher: Actor = { id: 'd1', name: 'Dana Dispatcher', role: 'dispatcher' };
const technician: Actor = { id: 't1', name: 'Tom Technician', role: 'technician' };
const otherTechnician: Actor = { id: 't2', name: 'Tia Technician', role: 'technician' };
const venue: Actor = { id: 'v1', name: 'Hotel Alpina', role: 'venue' };
const officeHours: BusinessCalendar = {
  timeZone: 'Europe/Vienna',
  weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ from: '08:00', to: '18:00' }]])),
  holidays: [],
};

/** Every item of the default checklist answered, as a technician's fix must. */
const CHECKLIST = Object.fromEntries(DEFAULT_INCIDENT_RULES.checklist.map((item) => [item, true]));

let eventCounter = 0;
const fault = (at: number, errorCode = 'GroundFailure'): FaultReport => ({ eventId: `e${++eventCounter}`, status: 'Faulted', errorCode, vendorErrorCode: null, info: null, at: new Date(at).toISOString() });

/** The incident engine on the time-skipping test server: days of SLA time pass in milliseconds. */
describe('incident engine (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let disposeDb: () => Promise<void>;
  let worker: Worker;
  let running: Promise<void>;
  let mail: ReturnType<typeof tempOutboxMailer>;
  const taskQueue = uniqueId('incident-wf');
  /** While set, the saves of one charger's incidents wait for `released`: a busy database, so a test can act while a save is under way. */
  let heldSaves: { chargerId: string; released: Promise<void> } | null = null;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: findTemporalTestServer() } } });
    ({ db, dispose: disposeDb } = await openTestDatabase('pglite'));
    mail = tempOutboxMailer();
    const activities = createActivities(db, { mailer: mail.mailer });
    const saveIncident: typeof activities.saveIncident = async (change) => {
      if (heldSaves?.chargerId === change.incident.chargerId) await heldSaves.released;
      return activities.saveIncident(change);
    };
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') }, activities: { ...activities, saveIncident } });
    running = worker.run();
  });

  /** Every incident this file started, for `npm run capture-histories` (the test server lists none). */
  const started: string[] = [];

  afterAll(async () => {
    if (env) await captureHistories(env.client, 'incident-workflow', { workflowIds: started, liveTaskQueue: taskQueue });
    worker?.shutdown();
    await running;
    await env?.teardown();
    await disposeDb?.();
    mail?.dispose();
  });

  async function open(options: { terms?: Partial<IncidentRules>; priority?: IncidentInput['priority']; respondWithinMs?: number; fixWithinMs?: number; calendar?: BusinessCalendar; firstFaultAt?: number } = {}) {
    const chargerId = uniqueId('CP');
    const now = await env.currentTimeMs();
    const first = fault(options.firstFaultAt ?? now);
    const input: IncidentInput = {
      chargerId,
      connectorId: 1,
      priority: options.priority ?? 'P2',
      sla: { respondWithinMs: options.respondWithinMs ?? HOUR, fixWithinMs: options.fixWithinMs ?? 8 * HOUR, calendar: options.calendar },
      agreement: null,
      faults: [first],
      terms: { ...DEFAULT_INCIDENT_RULES, verificationWindowMs: 30 * MINUTE, flappingWindowMs: 10 * MINUTE, ...options.terms },
    };
    started.push(`incident:${chargerId}:1`);
    return env.client.workflow.signalWithStart(incidentWorkflow, { workflowId: `incident:${chargerId}:1`, taskQueue, args: [input], signal: faultReported, signalArgs: [first] });
  }

  const query = (handle: WorkflowHandle<typeof incidentWorkflow>) => handle.query(incidentQuery);
  /** The charger reports the connector's status (Available: it works again). */
  const reports = async (handle: WorkflowHandle<typeof incidentWorkflow>, status = 'Available') =>
    handle.signal(chargerReported, { eventId: `r${++eventCounter}`, kind: 'status', status, at: new Date(await env.currentTimeMs()).toISOString() });
  const stepsOf = async (handle: WorkflowHandle<typeof incidentWorkflow>) => (await query(handle)).steps.map((s) => s.step).filter((s) => s !== 'charger-status');
  const refusal = (error: unknown) => (error as WorkflowUpdateFailedError).cause;
  /**
   * The steps after the task was created and assigned. An assignment sent right after the start
   * may come in the workflow task that opens the incident, before the task is created: either order.
   */
  const afterOpening = (steps: string[]) => {
    expect([...steps.slice(0, 2)].sort()).toEqual(['assigned', 'task-created']);
    return steps.slice(2);
  };
  /** Skips the test server's clock forward to a local wall time. */
  async function skipTo(local: DateTime) {
    const now = await env.currentTimeMs();
    await env.sleep(local.toMillis() - now);
  }

  it('breaches the response clock when nobody answers, then the fix clock; last-cycle and ever-breached kept', async () => {
    const handle = await open();
    const opened = await query(handle);
    expect(Date.parse(clockState(opened.clocks.response, new Date()).breachAt!) - Date.parse(opened.openedAt)).toBe(HOUR);
    await env.sleep(61 * MINUTE);
    const late = await query(handle);
    expect(clockState(late.clocks.response, new Date(await env.currentTimeMs()))).toMatchObject({ breached: true, everBreached: true });
    await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher }] });
    await env.sleep(8 * HOUR);
    expect(await stepsOf(handle)).toEqual(['task-created', 'response-breached', 'acknowledged', 'fix-breached']);
    await handle.executeUpdate(resolve, { args: [{ actor: dispatcher }] });
    await env.sleep(11 * MINUTE); // the flapping window passes; the workflow ends
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'resolved', outcome: 'closed-by-dispatcher' });
    const row = await db.selectFrom('incidents').selectAll().where('id', '=', final.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'resolved', responseBreached: true, fixBreached: true, responseEverBreached: true, fixEverBreached: true, cycle: 1 });
  });

  it('starts the clocks at the fault time when the agreement allows, at most that far back', async () => {
    const now = await env.currentTimeMs();
    const handle = await open({ firstFaultAt: now - 3 * HOUR, terms: { retroactiveStartUpToMs: HOUR } });
    const incident = await query(handle);
    expect(Date.parse(incident.clocks.response.cycles[0]!.startedAt)).toBe(Date.parse(incident.openedAt) - HOUR);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('runs the field steps: assign → accept → arrive → diagnose → fix → verified after the window', async () => {
    const handle = await open();
    await handle.executeUpdate(assign, { args: [{ actor: dispatcher, technician: { id: technician.id, name: technician.name } }] });
    const byOther = await handle.executeUpdate(accept, { args: [{ actor: otherTechnician }] }).catch((e: unknown) => e);
    expect(refusal(byOther)).toMatchObject({ type: 'Forbidden', message: 'the task is assigned to Tom Technician' });
    await handle.executeUpdate(accept, { args: [{ actor: technician }] });
    await env.sleep(40 * MINUTE);
    await handle.executeUpdate(arrive, { args: [{ actor: technician, note: 'gate code from reception' }] });
    await handle.executeUpdate(diagnose, { args: [{ actor: technician, rootCause: 'hardware', evidence: 'RCD trips at 6 mA' }] });
    const badPhoto = await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST, photos: [{ id: 'p0', name: 'x.exe', contentType: 'application/x-msdownload', sizeBytes: 10 }] }] }).catch((e: unknown) => e);
    expect(refusal(badPhoto)).toMatchObject({ type: 'InvalidRequest' });
    await reports(handle, 'Available'); // the repaired connector reports in
    const fixed = await handle.executeUpdate(fix, {
      args: [{ actor: technician, partsUsed: ['RCD type B'], checklist: CHECKLIST, photos: [{ id: 'p1', name: 'after.jpg', contentType: 'image/jpeg', sizeBytes: 2_000_000 }] }],
    });
    expect(fixed).toMatchObject({ status: 'verifying', rootCause: { cause: 'hardware', evidence: 'RCD trips at 6 mA' } });
    expect(fixed.tasks).toEqual([expect.objectContaining({ status: 'done', assignee: { id: 't1', name: 'Tom Technician' } })]);
    await env.sleep(31 * MINUTE);
    const verified = await query(handle);
    expect(verified).toMatchObject({ status: 'resolved', outcome: 'verified' });
    expect(clockState(verified.clocks.fix, new Date())).toMatchObject({ stopped: true, breached: false });
    expect(afterOpening(await stepsOf(handle))).toEqual(['accepted', 'arrived', 'diagnosed', 'fixed', 'verification-started', 'resolved']);
    await env.sleep(11 * MINUTE);
    await handle.result();
  });

  it('a recurrence during verification returns the incident to fixing as a new cycle with the full target', async () => {
    const handle = await open({ fixWithinMs: 2 * HOUR });
    await handle.executeUpdate(assign, { args: [{ actor: dispatcher, technician }] });
    await env.sleep(3 * HOUR); // the first cycle breaches
    await reports(handle, 'Available');
    await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST }] });
    await env.sleep(5 * MINUTE);
    await handle.signal(faultReported, fault(await env.currentTimeMs(), 'GroundFailure'));
    const again = await query(handle);
    expect(again.status).toBe('dispatched');
    expect(again.tasks.at(-1)).toMatchObject({ status: 'claimed', assignee: { id: 't1' } });
    const fixClock = clockState(again.clocks.fix, new Date(await env.currentTimeMs()));
    expect(fixClock).toMatchObject({ cycle: 2, breached: false, everBreached: true, running: true });
    expect(fixClock.remainingMs).toBeGreaterThan(2 * HOUR - MINUTE);
    expect(await stepsOf(handle)).toContain('recurred');
    await reports(handle, 'Available');
    await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST }] });
    await env.sleep(31 * MINUTE);
    expect((await query(handle)).status).toBe('resolved');
    await env.sleep(11 * MINUTE);
    const final = await handle.result();
    const row = await db.selectFrom('incidents').select(['cycle', 'fixBreached', 'fixEverBreached']).where('id', '=', final.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ cycle: 2, fixBreached: false, fixEverBreached: true });
  });

  it('a more urgent fault raises the priority and the targets from that moment, never later than before; a less urgent one changes nothing', async () => {
    const handle = await open({ priority: 'P3', respondWithinMs: 4 * HOUR, fixWithinMs: 48 * HOUR });
    await env.sleep(HOUR);
    await handle.signal(faultReported, fault(await env.currentTimeMs(), 'OverCurrentFailure'), { priority: 'P1', sla: { respondWithinMs: 30 * MINUTE, fixWithinMs: 4 * HOUR }, faultClass: 'safety' });
    const raised = await query(handle);
    expect(raised.priority).toBe('P1');
    const entry = raised.steps.find((s) => s.step === 'priority-raised')!;
    const raisedAt = Date.parse(entry.at);
    expect(raisedAt - Date.parse(raised.openedAt)).toBeGreaterThanOrEqual(HOUR);
    expect(entry).toMatchObject({ actor: 'system', data: { from: 'P3', to: 'P1', faultClass: 'safety', fault: 'OverCurrentFailure' } });
    expect(Date.parse((entry.data as { fixBy: string }).fixBy) - raisedAt).toBe(4 * HOUR);
    const now = new Date(await env.currentTimeMs());
    expect(Date.parse(clockState(raised.clocks.response, now).breachAt!) - raisedAt).toBe(30 * MINUTE);
    expect(Date.parse(clockState(raised.clocks.fix, now).breachAt!) - raisedAt).toBe(4 * HOUR);

    await handle.signal(faultReported, fault(await env.currentTimeMs(), 'WeakSignal'), { priority: 'P4', sla: { respondWithinMs: 8 * HOUR, fixWithinMs: 96 * HOUR }, faultClass: 'minor' });
    expect((await query(handle)).priority).toBe('P1');
    await env.sleep(31 * MINUTE); // the raised response target passes
    expect(await stepsOf(handle)).toEqual(['task-created', 'priority-raised', 'response-breached']);
    const row = await db.selectFrom('incidents').select(['priority', 'fixBy', 'responseBreached']).where('id', '=', raised.id).executeTakeFirstOrThrow();
    expect(row.priority).toBe('P1');
    expect(row.responseBreached).toBe(true);
    expect(new Date(row.fixBy!).getTime() - raisedAt).toBe(4 * HOUR);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('a fault received before the fix but delivered after it (a relay backlog, a restart) is an occurrence, not a recurrence', async () => {
    const handle = await open();
    await handle.executeUpdate(assign, { args: [{ actor: dispatcher, technician }] });
    const receivedBeforeTheFix = new Date((await env.currentTimeMs()) - MINUTE).toISOString();
    await env.sleep(10 * MINUTE);
    await reports(handle, 'Available');
    await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST }] });
    await handle.signal(faultReported, { ...fault(await env.currentTimeMs(), 'HighTemperature'), receivedAt: receivedBeforeTheFix });
    const after = await query(handle);
    expect(after.status).toBe('verifying');
    expect(after.faults.map((f) => f.errorCode)).toEqual(['GroundFailure', 'HighTemperature']);
    expect(clockState(after.clocks.fix, new Date(await env.currentTimeMs()))).toMatchObject({ cycle: 1, stopped: true });
    // One received after the fix is a recurrence, as before.
    await handle.signal(faultReported, { ...fault(await env.currentTimeMs(), 'GroundFailure'), receivedAt: new Date(await env.currentTimeMs()).toISOString() });
    expect((await query(handle)).status).toBe('dispatched');
    expect(await stepsOf(handle)).toContain('recurred');
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test over' }] });
    await handle.result();
  });

  it('a fix on a connector that still reports Faulted waits for it to report healthy: verification and the fix clock’s stop come then', async () => {
    const handle = await open();
    await handle.executeUpdate(assign, { args: [{ actor: dispatcher, technician }] });
    const fixed = await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST }] });
    expect(fixed).toMatchObject({ status: 'verifying', verification: null, awaitingHealthy: { fixedBy: 'on-site' } });
    expect(clockState(fixed.clocks.fix, new Date(await env.currentTimeMs()))).toMatchObject({ running: true, stopped: false });
    await env.sleep(10 * MINUTE);
    expect((await query(handle)).status).toBe('verifying'); // not resolved: nothing said it works
    await reports(handle, 'Available');
    const healthyAt = await env.currentTimeMs();
    // A query may be answered before the workflow has taken the signal: wait for it.
    const verifying = await eventually(async () => {
      const incident = await query(handle);
      return incident.verification ? incident : null;
    }, 10_000, 'verification to start on the healthy report');
    expect(verifying).toMatchObject({ status: 'verifying', awaitingHealthy: null, verification: { startedAt: expect.any(String) } });
    expect(Math.abs(Date.parse(verifying.verification!.startedAt) - healthyAt)).toBeLessThan(MINUTE);
    expect(clockState(verifying.clocks.fix, new Date(healthyAt)).stopped).toBe(true);
    await env.sleep(31 * MINUTE);
    expect(await query(handle)).toMatchObject({ status: 'resolved', outcome: 'verified' });
    expect(afterOpening(await stepsOf(handle))).toEqual(['fixed', 'verification-waiting', 'verification-started', 'resolved']);
    await env.sleep(11 * MINUTE);
    await handle.result();
  });

  it('a fix the connector never confirms within the verification window has not taken: back to the technician, the fix clock still running', async () => {
    const handle = await open();
    await handle.executeUpdate(assign, { args: [{ actor: dispatcher, technician }] });
    await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST }] });
    await env.sleep(31 * MINUTE);
    const back = await query(handle);
    expect(back).toMatchObject({ status: 'dispatched', awaitingHealthy: null, verification: null, resolvedAt: null });
    expect(back.tasks.at(-1)).toMatchObject({ status: 'claimed', assignee: { id: 't1' } });
    expect(clockState(back.clocks.fix, new Date(await env.currentTimeMs()))).toMatchObject({ cycle: 1, running: true });
    expect(afterOpening(await stepsOf(handle))).toEqual(['fixed', 'verification-waiting', 'fix-not-taken']);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test over' }] });
    await handle.result();
  });

  it('verification ends resolved only if the connector still works: Unavailable at the end sends it back as a new cycle', async () => {
    const handle = await open();
    await handle.executeUpdate(assign, { args: [{ actor: dispatcher, technician }] });
    await reports(handle, 'Available');
    await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST }] });
    await env.sleep(5 * MINUTE);
    await reports(handle, 'Unavailable'); // no fault, but it does not work
    await env.sleep(26 * MINUTE);
    const back = await query(handle);
    expect(back).toMatchObject({ status: 'dispatched', verification: null, resolvedAt: null });
    expect(clockState(back.clocks.fix, new Date(await env.currentTimeMs()))).toMatchObject({ cycle: 2, running: true });
    expect((await stepsOf(handle)).slice(-3)).toEqual(['fixed', 'verification-started', 'fix-not-taken']);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test over' }] });
    await handle.result();
  });

  it('refuses a fix by a technician not working the incident, one without every checklist item answered, and photos that were not uploaded; records nothing', async () => {
    const handle = await open();
    const unassigned = await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST }] }).catch((e: unknown) => e);
    expect(refusal(unassigned)).toMatchObject({ type: 'Forbidden', message: 'the task is not assigned to you; claim it first' });
    await handle.executeUpdate(assign, { args: [{ actor: dispatcher, technician }] });
    const notTheirs = await handle.executeUpdate(fix, { args: [{ actor: otherTechnician, checklist: CHECKLIST }] }).catch((e: unknown) => e);
    expect(refusal(notTheirs)).toMatchObject({ type: 'Forbidden', message: 'the task is assigned to Tom Technician' });
    const [first, second] = DEFAULT_INCIDENT_RULES.checklist;
    const halfAnswered = await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: { [first!]: true, [second!]: '  ' } }] }).catch((e: unknown) => e);
    expect(refusal(halfAnswered)).toMatchObject({ type: 'InvalidRequest', message: expect.stringContaining(`unanswered: ${second}`) });
    const notUploaded = await handle.executeUpdate(fix, { args: [{ actor: technician, checklist: CHECKLIST, photos: [{ name: 'after.jpg', contentType: 'image/jpeg', sizeBytes: 1_000 }] }] }).catch((e: unknown) => e);
    expect(refusal(notUploaded)).toMatchObject({ type: 'InvalidRequest', message: expect.stringContaining('referenced by upload id') });
    expect(afterOpening(await stepsOf(handle))).toEqual([]);
    // The desk may record a fix made from afar (the venue power-cycled it), without the on-site checklist.
    await reports(handle, 'Available');
    expect(await handle.executeUpdate(fix, { args: [{ actor: dispatcher, note: 'venue power-cycled the unit' }] })).toMatchObject({ status: 'verifying' });
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test over' }] });
    await handle.result();
  });

  it('a pause stops the fix clock and moves its deadline by exactly the paused business time', async () => {
    // Monday 09:00 in Vienna, an 8 h fix target on office hours.
    const monday = DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Europe/Vienna' }).startOf('week').plus({ weeks: 1, hours: 9 });
    await skipTo(monday);
    const handle = await open({ fixWithinMs: 8 * HOUR, respondWithinMs: 8 * HOUR, calendar: officeHours });
    const before = clockState((await query(handle)).clocks.fix, new Date()).breachAt!;
    const near = (iso: string, expected: DateTime) => expect(Math.abs(Date.parse(iso) - expected.toMillis())).toBeLessThan(1_000);
    near(before, monday.set({ hour: 17 }));
    await env.sleep(2 * HOUR);
    await handle.executeUpdate(pause, { args: [{ actor: dispatcher, reason: 'venue-access', note: 'car park closed for an event' }] });
    const notAllowed = await handle.executeUpdate(pause, { args: [{ actor: dispatcher, reason: 'parts' }] }).catch((e: unknown) => e);
    expect(refusal(notAllowed)).toMatchObject({ type: 'InvalidTransition' });
    await env.sleep(3.5 * HOUR); // paused 11:00 → 14:30 (3.5 business hours)
    const resumed = await handle.executeUpdate(resume, { args: [{ actor: dispatcher }] });
    const after = clockState(resumed.clocks.fix, new Date()).breachAt!;
    // Monday 17:00 + 3.5 business hours = Tuesday 10:30 (1 h on Monday, 2.5 h from Tuesday 08:00).
    near(after, monday.plus({ days: 1 }).set({ hour: 10, minute: 30 }));
    // Exactly: the deadline moved by the paused business time, to the millisecond.
    const paused = clockState(resumed.clocks.fix, new Date(await env.currentTimeMs())).pausedBusinessMs;
    expect(Math.abs(paused - 3.5 * HOUR)).toBeLessThan(1_000);
    expect(businessTimeBetween(new Date(before), new Date(after), officeHours)).toBe(paused);
    expect(await stepsOf(handle)).toEqual(['task-created', 'paused', 'resumed']);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'duplicate' }] });
    await handle.result();
  });

  it('escalates a P2 fault from Friday 17:30 on office hours on Monday, not Saturday; repeats until acknowledged', async () => {
    const friday = DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Europe/Vienna' }).startOf('week').plus({ weeks: 1, days: 4, hours: 17, minutes: 30 });
    await skipTo(friday);
    const noc = { name: 'ChargeOps NOC', email: 'noc@chargeops.example' };
    const handle = await open({
      respondWithinMs: 2 * HOUR,
      fixWithinMs: 24 * HOUR,
      calendar: officeHours,
      terms: { agreementName: 'Hotel Alpina', escalation: [{ level: 1, trigger: { kind: 'unacknowledged-for', afterMs: HOUR }, recipients: [noc], repeatEveryMs: 30 * MINUTE }] },
    });
    const escalations = async () => (await query(handle)).steps.filter((s) => s.step === 'escalated');
    await skipTo(friday.plus({ days: 1, hours: -5 })); // Saturday 12:30
    expect(await escalations()).toEqual([]);
    // One business hour after Friday 17:30 is Monday 08:30: 30 min on Friday, 30 min on Monday.
    await skipTo(friday.plus({ days: 3 }).set({ hour: 8, minute: 45 }));
    const [first] = await escalations();
    expect(first).toMatchObject({ actor: 'system', data: { level: 1, repeat: 0, recipients: ['noc@chargeops.example'] } });
    const sentAt = DateTime.fromISO(first!.at).setZone('Europe/Vienna');
    expect(sentAt.toFormat('ccc HH:mm')).toBe('Mon 08:30');
    const stored = await db.selectFrom('notifications').selectAll().where('incidentId', '=', (await query(handle)).id).execute();
    expect(stored).toEqual([expect.objectContaining({ level: 1, recipients: [noc] })]);
    expect(stored[0]!.subject).toContain('[P2] Escalation level 1');
    // Not acknowledged: it repeats every 30 business minutes (09:00), until someone acknowledges.
    await skipTo(friday.plus({ days: 3 }).set({ hour: 9, minute: 10 }));
    expect((await escalations()).map((s) => s.data?.repeat)).toEqual([0, 1]);
    await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher }] });
    await skipTo(friday.plus({ days: 3 }).set({ hour: 12 }));
    expect(await escalations()).toHaveLength(2);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('records an escalation the mail server refuses for good, goes on escalating and still closes', async () => {
    const refusing = await startSmtpServer({ refuseRecipients: 550 });
    const mailDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-refused-'));
    const refusingMailer = createMailer({ smtpUrl: refusing.url, dataDir: mailDir, from: 'Concierge <concierge@localhost>', log: createLogger('silent') });
    const queue = uniqueId('incident-refused');
    const refusingWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: queue, workflowBundle: { codePath: inject('workflowBundlePath') }, activities: createActivities(db, { mailer: refusingMailer }) });
    const run = refusingWorker.run();
    try {
      const now = await env.currentTimeMs();
      const first = fault(now);
      const noc = { name: 'NOC', email: 'typo@chargeops.example' };
      const input: IncidentInput = {
        chargerId: uniqueId('CP'),
        connectorId: 1,
        priority: 'P2',
        sla: { respondWithinMs: 2 * HOUR, fixWithinMs: 8 * HOUR },
        agreement: null,
        faults: [first],
        terms: { ...DEFAULT_INCIDENT_RULES, escalation: [{ level: 1, trigger: { kind: 'unacknowledged-for', afterMs: HOUR }, recipients: [noc], repeatEveryMs: 30 * MINUTE }] },
      };
      started.push(`incident:${input.chargerId}:1`);
      const handle = await env.client.workflow.signalWithStart(incidentWorkflow, { workflowId: `incident:${input.chargerId}:1`, taskQueue: queue, args: [input], signal: faultReported, signalArgs: [first] });
      await env.sleep(HOUR + 45 * MINUTE);
      const failed = (await query(handle)).steps.filter((s) => s.step === 'escalation-failed');
      // The first notice and its repeat, each refused once and not retried.
      expect(failed.map((s) => s.data?.repeat)).toEqual([0, 1]);
      expect(failed[0]!.data).toMatchObject({ level: 1, recipients: ['typo@chargeops.example'], reason: expect.stringMatching(/550/) });
      expect((await query(handle)).steps.filter((s) => s.step === 'escalated')).toEqual([]);
      expect(refusing.received).toHaveLength(0);
      await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
      await handle.result();
    } finally {
      refusingWorker.shutdown();
      await run;
      refusingMailer.close();
      await refusing.close();
      rmSync(mailDir, { recursive: true, force: true });
    }
  });

  it('breaches over a DST weekend and a holiday Monday at the right local time', async () => {
    // The next weekend on which Vienna's clocks change; its Monday made a holiday.
    let day = DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Europe/Vienna' }).startOf('day').plus({ days: 1 });
    while (day.offset === day.plus({ days: 1 }).offset) day = day.plus({ days: 1 });
    const dstSunday = day; // its midnight is on the old offset, the next one on the new
    expect(dstSunday.weekday).toBe(7);
    const friday = dstSunday.minus({ days: 2 }).set({ hour: 17, minute: 30 });
    const holiday = dstSunday.plus({ days: 1 }).toISODate()!;
    await skipTo(friday);
    const handle = await open({ fixWithinMs: 4 * HOUR, respondWithinMs: 4 * HOUR, calendar: { ...officeHours, holidays: [holiday] } });
    // 30 min on Friday, nothing over the weekend or on the holiday, 3.5 h from Tuesday 08:00.
    await skipTo(dstSunday.plus({ days: 2 }).set({ hour: 12 }));
    const breach = (await query(handle)).steps.find((s) => s.step === 'fix-breached')!;
    const local = DateTime.fromISO(breach.at).setZone('Europe/Vienna');
    expect(local.toFormat('ccc HH:mm')).toBe('Tue 11:30');
    expect(local.offset).not.toBe(friday.offset);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('refuses pausing for a reason the agreement does not allow', async () => {
    const handle = await open({ terms: { pauseReasons: ['venue-access'] } });
    const refused = await handle.executeUpdate(pause, { args: [{ actor: dispatcher, reason: 'parts' }] }).catch((e: unknown) => e);
    expect(refusal(refused)).toMatchObject({ type: 'InvalidRequest', message: 'the agreement does not allow pausing for parts; allowed: venue-access' });
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('keeps a flapping connector (fault / clear every 20 s for 10 minutes) in one incident', async () => {
    const handle = await open();
    for (let i = 0; i < 15; i++) {
      await env.sleep(20_000);
      await handle.signal(chargerReported, { eventId: `s${i}`, kind: 'status', status: 'Available', at: new Date(await env.currentTimeMs()).toISOString() });
      await env.sleep(20_000);
      await handle.signal(faultReported, fault(await env.currentTimeMs()));
    }
    const incident = await query(handle);
    expect(incident.faults).toHaveLength(16);
    expect(incident.status).toBe('opened');
    expect(incident.runId).toBe((await handle.describe()).runId);
    // Thirty reports that move no deadline leave the SLA timer alone: it was started once, never replaced.
    const { events } = await handle.fetchHistory();
    const timers = events!.filter((e) => e.timerStartedEventAttributes || e.timerCanceledEventAttributes).map((e) => (e.timerStartedEventAttributes ? 'started' : 'canceled'));
    expect(timers).toEqual(['started']);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('a step that comes with the start and closes the incident leaves no work open', async () => {
    const chargerId = uniqueId('CP');
    const workflowId = `incident:${chargerId}:1`;
    const input: IncidentInput = { chargerId, connectorId: 1, priority: 'P2', sla: { respondWithinMs: HOUR, fixWithinMs: 8 * HOUR }, agreement: null, faults: [fault(await env.currentTimeMs())], terms: { ...DEFAULT_INCIDENT_RULES, flappingWindowMs: 10 * MINUTE } };
    started.push(workflowId);
    // The start and the step in the same first workflow task: the step's handler runs before the work would begin.
    const startOperation = new WithStartWorkflowOperation(incidentWorkflow, { workflowId, taskQueue, args: [input], workflowIdConflictPolicy: 'FAIL' });
    const answered = await env.client.workflow.executeUpdateWithStart(resolve, { args: [{ actor: dispatcher }], startWorkflowOperation: startOperation });
    expect(answered).toMatchObject({ status: 'resolved', outcome: 'closed-by-dispatcher' });
    const handle = await startOperation.workflowHandle();
    await env.sleep(MINUTE);
    const incident = await query(handle);
    expect(incident).toMatchObject({ status: 'resolved', outcome: 'closed-by-dispatcher', tasks: [] });
    expect(await stepsOf(handle)).toEqual(['resolved']);
    expect(await handle.result()).toMatchObject({ status: 'resolved' });
  });

  it('reopens a resolved incident when the fault returns within the flapping window', async () => {
    const handle = await open();
    // Resolved once it is open with its task: an update sent at once may come in the opening workflow task, before the task.
    await eventually(async () => (await query(handle)).tasks.length > 0 || null, 10_000, 'the incident open with its task');
    await handle.executeUpdate(resolve, { args: [{ actor: dispatcher }] });
    await env.sleep(5 * MINUTE);
    await handle.signal(faultReported, fault(await env.currentTimeMs()));
    const reopened = await query(handle);
    // Closed by a dispatcher without an acknowledgement: back to waiting for one, with the task open again.
    expect(reopened).toMatchObject({ status: 'opened', resolvedAt: null, outcome: null });
    expect(reopened.tasks).toEqual([expect.objectContaining({ status: 'open' })]);
    expect(reopened.clocks.fix.cycles).toHaveLength(2);
    expect(await stepsOf(handle)).toEqual(['task-created', 'resolved', 'reopened']);
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('a fault that arrives once the incident is closed for good opens the next incident, continuing the same workflow', async () => {
    const handle = await open();
    const { id: firstId, chargerId, faults: firstFaults } = await query(handle);
    const firstRunId = (await handle.describe()).runId;
    // The cancellation's save waits, so the late fault reaches the closed incident's run before it ends.
    let release = () => undefined as void;
    heldSaves = { chargerId, released: new Promise<void>((resolve) => (release = resolve)) };
    try {
      const cancelling = await handle.startUpdate(cancel, { args: [{ actor: dispatcher, reason: 'false alarm' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
      const late = fault(await env.currentTimeMs(), 'HighTemperature');
      // The cancelled run cannot end while its save is held: the fault reaches it, closed.
      await handle.signal(faultReported, late);
      release();
      expect(await cancelling.result()).toBeDefined();

      const next = await eventually(async () => {
        const incident = await query(handle);
        return incident.id !== firstId ? incident : undefined;
      });
      // The closed incident's run continued as new into the next incident, which holds the late fault only.
      expect((await env.client.workflow.getHandle(handle.workflowId, firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
      expect(next).toMatchObject({ chargerId, connectorId: 1, status: 'opened' });
      expect(next.faults.map((f) => f.eventId)).toEqual([late.eventId]);
      const rows = await db.selectFrom('incidents').select(['id', 'status']).where('chargerId', '=', chargerId).orderBy('openedAt').execute();
      expect(rows).toEqual([
        { id: firstId, status: 'cancelled' },
        { id: next.id, status: 'opened' },
      ]);
      const storedFaults = await db.selectFrom('incidentFaults').select(['incidentId', 'eventId']).where('incidentId', 'in', [firstId, next.id]).orderBy('incidentId').execute();
      expect(storedFaults).toEqual(
        expect.arrayContaining([...firstFaults.map((f) => ({ incidentId: firstId, eventId: f.eventId })), { incidentId: next.id, eventId: late.eventId }]),
      );
      expect(storedFaults).toHaveLength(firstFaults.length + 1);
    } finally {
      release();
      heldSaves = null;
    }
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'test' }] });
    await handle.result();
  });

  it('refuses a step in the wrong state, from the wrong role or with a request the step table refuses, before recording anything; counts a fault delivered twice once', async () => {
    const handle = await open();
    const first = (await query(handle)).faults[0]!;
    await handle.signal(faultReported, first);
    const byVenue = await handle.executeUpdate(acknowledge, { args: [{ actor: venue }] }).catch((e: unknown) => e);
    expect(byVenue).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refusal(byVenue)).toMatchObject({ type: 'Forbidden', message: 'the venue role may not acknowledge an incident; allowed: account-manager, dispatcher, technician' });
    const cancelByTechnician = await handle.executeUpdate(cancel, { args: [{ actor: technician, reason: 'meh' }] }).catch((e: unknown) => e);
    expect(refusal(cancelByTechnician)).toMatchObject({ type: 'Forbidden' });
    const arriveUnassigned = await handle.executeUpdate(arrive, { args: [{ actor: technician }] }).catch((e: unknown) => e);
    expect(refusal(arriveUnassigned)).toMatchObject({ type: 'InvalidTransition', message: 'cannot arrive an incident that is opened' });
    // A step meant for an earlier incident of this connector's workflow is refused, not taken on this one.
    const forEarlier = await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher, incidentId: 'an-earlier-incident' }] }).catch((e: unknown) => e);
    expect(refusal(forEarlier)).toMatchObject({ type: 'InvalidTransition' });
    expect(refusal(forEarlier)?.message).toMatch(/^cannot acknowledge incident an-earlier-incident: it is closed/);
    // A client that reaches Temporal directly is held to the step table's request rules, as the API is.
    const unstorableNote = await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher, note: 'looking\u0000' }] }).catch((e: unknown) => e);
    expect(refusal(unstorableNote)).toMatchObject({ type: 'InvalidRequest', message: expect.stringMatching(/^acknowledge\.note: may not contain U\+0000/) });
    const unknownCause = await handle.executeUpdate(diagnose, { args: [{ actor: dispatcher, rootCause: 'gremlins' as never }] }).catch((e: unknown) => e);
    expect(refusal(unknownCause)).toMatchObject({ type: 'InvalidRequest', message: expect.stringMatching(/^diagnose\.rootCause: /) });
    const incident = await query(handle);
    expect(incident.faults).toHaveLength(1);
    expect(incident.steps.map((s) => s.step)).toEqual(['task-created']);
    expect(incident.acknowledgedAt).toBeNull();
    await handle.executeUpdate(cancel, { args: [{ actor: dispatcher, reason: 'false alarm' }] });
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'cancelled', outcome: 'cancelled: false alarm' });
    expect(final.tasks[0]).toMatchObject({ status: 'cancelled' });
  });
});
