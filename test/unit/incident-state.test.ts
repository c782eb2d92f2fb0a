import { describe, expect, it } from 'vitest';
import { DEFAULT_INCIDENT_RULES, type FaultReport, type IncidentInput } from '../../contracts/incident.js';
import { clockState } from '../../contracts/sla-clock.js';
import { IncidentState, openIncident, system } from '../../workflows/incident/state.js';

const HOUR = 3_600_000;
const dispatcher = { id: 'd1', name: 'Dana Dispatcher', role: 'dispatcher' as const };
const fault = (eventId: string, at: Date, receivedAt?: Date): FaultReport => ({ eventId, status: 'Faulted', errorCode: 'GroundFailure', vendorErrorCode: null, info: null, at: at.toISOString(), ...(receivedAt ? { receivedAt: receivedAt.toISOString() } : {}) });

function incidentState(overrides: Partial<IncidentInput> = {}, now = new Date()) {
  const input: IncidentInput = { chargerId: 'CP-1', connectorId: 1, priority: 'P2', sla: { respondWithinMs: HOUR, fixWithinMs: 8 * HOUR }, agreement: null, faults: [fault('e1', now)], terms: DEFAULT_INCIDENT_RULES, ...overrides };
  let revision = 0;
  const state = new IncidentState(openIncident(input, { id: 'i-1', workflowId: 'incident:CP-1:1', runId: 'r-1' }, now), () => ++revision);
  return { state, incident: state.incident, revisions: () => revision };
}

/** The incident's state changes are plain code: they run, and are checked, without a Temporal server. */
describe('the incident state, without Temporal', () => {
  it('opens with both clocks running from now, or from the first fault when the agreement allows a retroactive start (at most that far back)', () => {
    const now = new Date('2026-12-02T10:00:00Z');
    expect(incidentState({}, now).incident.clocks.fix.cycles[0]!.startedAt).toBe(now.toISOString());
    const reportedEarlier = [fault('e1', new Date('2026-12-02T07:00:00Z'))];
    const retroactive = incidentState({ faults: reportedEarlier, terms: { ...DEFAULT_INCIDENT_RULES, retroactiveStartUpToMs: 2 * HOUR } }, now).incident;
    expect(retroactive.clocks.response.cycles[0]!.startedAt).toBe('2026-12-02T08:00:00.000Z');
    expect(retroactive).toMatchObject({ id: 'i-1', status: 'opened', faults: reportedEarlier, steps: [], revision: 0 });
  });

  it('a fault during verification is a recurrence (new fix cycle, task reopened); one received before the fix is not', () => {
    const { state, incident } = incidentState();
    state.openTask();
    state.completeTask();
    state.startVerification(dispatcher, 'on-site');
    const verificationStarted = new Date(incident.verification!.startedAt);
    state.addFault(fault('late', new Date(verificationStarted.getTime() - 1_000), new Date(verificationStarted.getTime() - 500)), false);
    expect(incident.status).toBe('verifying');
    state.addFault(fault('new', new Date(verificationStarted.getTime() + 1_000)), false);
    expect(incident.status).toBe('opened');
    expect(incident.verification).toBeNull();
    expect(incident.clocks.fix.cycles).toHaveLength(2);
    expect(incident.tasks).toEqual([expect.objectContaining({ status: 'open', completedAt: null })]);
    expect(incident.steps.map((s) => s.step)).toEqual(['task-created', 'verification-started', 'recurred']);
  });

  it('a fault after resolution reopens only while settling (the flapping window)', () => {
    const { state, incident } = incidentState();
    state.close('resolved', 'verified', system);
    state.addFault(fault('after', new Date(Date.now() + 1_000)), true);
    expect(incident.status).toBe('opened');
    expect(incident.steps.map((s) => s.step)).toEqual(['resolved', 'reopened', 'task-created']);
  });

  it('cancelling cancels both clocks and the open task; every change is reported', () => {
    const { state, incident, revisions } = incidentState();
    state.openTask();
    state.acknowledgeNow();
    const before = revisions();
    state.close('cancelled', 'cancelled: false alarm', dispatcher);
    expect(revisions()).toBeGreaterThan(before);
    expect(incident.tasks[0]).toMatchObject({ status: 'cancelled' });
    const fix = clockState(incident.clocks.fix, new Date());
    expect(fix).toMatchObject({ running: false, cancelled: true, breachAt: null });
    expect(incident.steps.at(-1)).toMatchObject({ step: 'cancelled', actor: 'Dana Dispatcher', actorRole: 'dispatcher', data: expect.objectContaining({ outcome: 'cancelled: false alarm' }) });
  });

  it('records a refused projection once', () => {
    const { state, incident } = incidentState();
    expect(state.degraded('SQLSTATE 22P05')).toBe(true);
    expect(state.degraded('SQLSTATE 22P05')).toBe(false);
    expect(incident.degraded).toMatchObject({ cause: 'SQLSTATE 22P05' });
    expect(incident.steps.filter((s) => s.step === 'projection-degraded')).toHaveLength(1);
  });
});
