import { allHandlersFinished, condition, continueAsNew, log, patched, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { ACTIVE_STATUSES, moreUrgent, type FaultReport, type Incident, type IncidentInput } from '../../contracts/incident.js';
import { Escalations } from './escalations.js';
import { registerHumanSteps } from './human-steps.js';
import { chargerReported, faultReported, incidentQuery } from './messages.js';
import { NO_WORK_ONCE_CLOSED, PRIORITY_RAISED_BY_A_FAULT } from './patches.js';
import { ProjectionSaver } from './projection-saver.js';
import { remoteFix, type LastReport } from './remote-fix.js';
import { runSlaTimer } from './sla-timer.js';
import { IncidentState, openIncident, system } from './state.js';

/**
 * One incident on one connector, the way the agreement says to run it:
 *
 *   open (clocks start, retroactively if allowed)
 *   → remote fix when the fault class allows it: soft reset, wait; hard reset, wait
 *   → otherwise, or if the charger did not recover, a dispatch task for the field crew
 *   → a technician accepts, arrives, diagnoses, fixes
 *   → verify, once the connector reports healthy: it stays healthy for the verification window (or
 *     completes a session); a recurrence, or no health, returns it to fixing as a new cycle
 *   → resolved with the SLA outcome; a fault within the flapping window after that reopens it.
 *
 * Meanwhile the response and fix clocks run on the agreement's calendar, pause and resume, breach,
 * and escalate by the agreement's levels (sla-timer.ts); people's steps are Updates
 * (human-steps.ts); every change is saved to the database the API reads (projection-saver.ts).
 */
export async function incidentWorkflow(input: IncidentInput): Promise<Incident> {
  const info = workflowInfo();
  const incident = input.resume?.incident ?? openIncident(input, { id: uuid4(), workflowId: info.workflowId, runId: info.runId }, new Date());
  incident.runId = info.runId;
  const saver = new ProjectionSaver(incident, input.resume?.savedFaults ?? 0, input.resume?.savedSteps ?? 0, projectionRefused);
  const state = new IncidentState(incident, () => saver.changed());
  const escalations = new Escalations(state);
  const faultsAfterClose: FaultReport[] = [];
  const signalsSeen: string[] = [...(input.resume?.signalsSeen ?? [])];
  let lastReport: LastReport | null = null;
  let remoteFixRunning = false;
  /** Resolved, and waiting out the flapping window in which a fault reopens it. */
  let settling = false;
  let finished = false;

  setHandler(incidentQuery, () => incident);
  setHandler(faultReported, (fault, terms) => {
    const seen = (f: FaultReport) => f.eventId === fault.eventId;
    if (incident.faults.some(seen) || faultsAfterClose.some(seen)) return;
    if (state.isClosed() && !settling) {
      faultsAfterClose.push(fault);
      return;
    }
    state.addFault(fault, settling);
    // A more urgent fault raises the open incident's priority and SLA targets from now on.
    if (terms && !state.isClosed() && moreUrgent(terms.priority, incident.priority) && patched(PRIORITY_RAISED_BY_A_FAULT)) state.raisePriority(terms, fault);
  });
  setHandler(chargerReported, (signal) => {
    if (state.isClosed() || signalsSeen.includes(signal.eventId)) return;
    signalsSeen.push(signal.eventId);
    if (signalsSeen.length > 500) signalsSeen.shift();
    lastReport = { signal, receivedAt: Date.now() };
    state.noteReport(signal);
    state.record('charger-status', system, null, { kind: signal.kind, status: signal.status, reportedAt: signal.at });
    // A session completed after the fix proves it; otherwise a healthy report starts a verification that waited for one.
    const fixedAt = incident.awaitingHealthy?.since ?? incident.verification?.startedAt;
    if (incident.status === 'verifying' && signal.kind === 'session-completed' && fixedAt && signal.at >= fixedAt) {
      state.close('resolved', 'session-completed', system);
    } else if (incident.awaitingHealthy && incident.connectorHealthy) state.healthyAfterFix();
    // An offline charger that is back is fixed (often someone rebooted a router); verification decides.
    if (incident.source === 'offline' && signal.kind === 'online' && ACTIVE_STATUSES.includes(incident.status)) state.startVerification(system, 'back-online');
  });
  registerHumanSteps(state, saver);

  saver.changed();
  void runSlaTimer(state, escalations, () => finished);

  // The work: a remote fix first when the agreement allows it, else straight to the field crew —
  // unless a step that came with the start (cancel, resolve) closed it already. Runs from before
  // this check (no marker) reopened the work there; `patched` is asked only in that rare case.
  const closedAtStart = state.isClosed() && patched(NO_WORK_ONCE_CLOSED);
  if (!input.resume && !closedAtStart) {
    if (incident.terms.remoteFix && incident.source === 'fault') {
      remoteFixRunning = true;
      await remoteFix(state, () => lastReport);
      remoteFixRunning = false;
    } else state.openTask();
  }

  // Closed, then settled: a fault within the flapping window reopens the same incident.
  for (;;) {
    await condition(() => state.isClosed() || workflowInfo().continueAsNewSuggested);
    if (!state.isClosed()) {
      await condition(() => !remoteFixRunning && escalations.inFlight === 0 && allHandlersFinished());
      await saver.drain();
      // The new run saves on from where this one's saves ended, not from the array lengths: with
      // those, faults that were in `incident` but not yet in the database were never stored.
      return continueAsNew<typeof incidentWorkflow>({ ...input, resume: { incident, ...saver.savedCounts(), signalsSeen } });
    }
    if (incident.status === 'cancelled') break;
    settling = true;
    const reopened = await condition(() => !state.isClosed(), incident.terms.flappingWindowMs);
    settling = false;
    if (!reopened) break;
  }
  finished = true;
  await condition(() => escalations.inFlight === 0 && allHandlersFinished());
  await saver.drain();
  if (faultsAfterClose.length > 0) {
    // Faults after the settle window belong to the next incident on this connector.
    await continueAsNew<typeof incidentWorkflow>({ ...input, resume: undefined, faults: faultsAfterClose });
  }
  return incident;

  /**
   * The database refused the projection for good: on record and alerted once; from then on the
   * projection is saved as the database can store it (see ProjectionSaver), and the incident goes on.
   */
  function projectionRefused(cause: string) {
    if (!state.degraded(cause)) return;
    log.error('incident projection refused by the database; saving it with unstorable characters replaced', { incidentId: incident.id, chargerId: incident.chargerId, connectorId: incident.connectorId, cause });
  }
}
