import { WorkflowUpdateFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createActivities } from '../activities/index.js';
import type { Db } from '../db/connect.js';
import type { Actor, FaultReport, IncidentInput } from '../contracts/incident.js';
import { findTemporalTestServer } from '../runtime/temporal-dev-server.js';
import { acknowledge, faultReported, incidentQuery, incidentWorkflow, resolve } from '../workflows/incident.js';
import { uniqueId } from './support/app.js';
import { openTestDatabase } from './support/databases.js';

const HOUR = 3_600_000;
const dispatcher: Actor = { id: 't1', name: 'Dana Dispatcher', role: 'dispatcher' };
const venue: Actor = { id: 't2', name: 'Hotel Alpina', role: 'venue' };

const fault = (eventId: string, errorCode = 'GroundFailure'): FaultReport => ({
  eventId,
  status: 'Faulted',
  errorCode,
  vendorErrorCode: null,
  info: null,
  at: '2026-11-24T10:00:00.000Z',
});

/** The incident workflow on the time-skipping test server: hour-long SLA timers pass in milliseconds. */
describe('incident workflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let disposeDb: () => Promise<void>;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueId('incident-wf');

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: findTemporalTestServer() } } });
    ({ db, dispose: disposeDb } = await openTestDatabase('pglite'));
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createActivities(db),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await disposeDb?.();
  });

  async function open(first: FaultReport) {
    const chargerId = uniqueId('CP');
    const input: IncidentInput = { chargerId, connectorId: 1, priority: 'P2', sla: { respondWithinMs: HOUR, fixWithinMs: 8 * HOUR }, agreement: null };
    const handle = await env.client.workflow.signalWithStart(incidentWorkflow, {
      workflowId: `incident:${chargerId}:1`,
      taskQueue,
      args: [input],
      signal: faultReported,
      signalArgs: [first],
    });
    return handle;
  }

  const row = (id: string) => db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('flags the response breach when the response timer fires first, and the fix breach likewise', async () => {
    const handle = await open(fault('e1'));
    const opened = await handle.query(incidentQuery);
    expect(Date.parse(opened.respondBy) - Date.parse(opened.openedAt)).toBe(HOUR);

    await env.sleep('61 minutes');
    const afterResponse = await handle.query(incidentQuery);
    expect(afterResponse).toMatchObject({ status: 'opened', responseBreached: true, fixBreached: false });

    await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher }] });
    await env.sleep('8 hours');
    const afterFix = await handle.query(incidentQuery);
    expect(afterFix).toMatchObject({ status: 'acknowledged', responseBreached: true, fixBreached: true });
    expect(afterFix.steps.map((s) => s.step)).toEqual(['response-breached', 'acknowledged', 'fix-breached']);

    await handle.executeUpdate(resolve, { args: [{ actor: dispatcher, note: 'replaced RCD' }] });
    const final = await handle.result();
    expect(final.status).toBe('resolved');
    expect(await row(final.id)).toMatchObject({ status: 'resolved', responseBreached: true, fixBreached: true });
  });

  it('meets both clocks when acknowledged and resolved in time', async () => {
    const handle = await open(fault('e1'));
    await env.sleep('30 minutes');
    await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher }] });
    await env.sleep('2 hours');
    await handle.executeUpdate(resolve, { args: [{ actor: dispatcher }] });
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'resolved', responseBreached: false, fixBreached: false });
    // The time-skipping server lands within a few milliseconds of the skipped time, on either side.
    const responseMs = Date.parse(final.acknowledgedAt!) - Date.parse(final.openedAt);
    expect(Math.abs(responseMs - 30 * 60_000)).toBeLessThan(1_000);
  });

  it('counts a fault delivered twice once', async () => {
    const handle = await open(fault('e1'));
    await handle.signal(faultReported, fault('e1'));
    await handle.signal(faultReported, fault('e2', 'HighTemperature'));
    await handle.signal(faultReported, fault('e2', 'HighTemperature'));
    const incident = await handle.query(incidentQuery);
    expect(incident.faults.map((f) => f.eventId)).toEqual(['e1', 'e2']);
    await handle.executeUpdate(resolve, { args: [{ actor: dispatcher }] });
    const { id } = await handle.result();
    const stored = await db.selectFrom('incidentFaults').select('eventId').where('incidentId', '=', id).orderBy('eventId').execute();
    expect(stored.map((f) => f.eventId)).toEqual(['e1', 'e2']);
  });

  it('refuses a step in the wrong state or from the wrong role before recording anything', async () => {
    const handle = await open(fault('e1'));
    const refusal = (error: unknown) => (error as WorkflowUpdateFailedError).cause;

    const byVenue = await handle.executeUpdate(acknowledge, { args: [{ actor: venue }] }).catch((e: unknown) => e);
    expect(byVenue).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refusal(byVenue)).toMatchObject({ type: 'Forbidden', message: 'a venue may not acknowledge an incident' });

    await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher }] });
    const twice = await handle.executeUpdate(acknowledge, { args: [{ actor: dispatcher }] }).catch((e: unknown) => e);
    expect(refusal(twice)).toMatchObject({ type: 'InvalidTransition', message: 'cannot acknowledge an incident that is acknowledged' });

    const incident = await handle.query(incidentQuery);
    expect(incident.steps.map((s) => s.step)).toEqual(['acknowledged']);
    await handle.executeUpdate(resolve, { args: [{ actor: dispatcher }] });
    await handle.result();
  });
});
