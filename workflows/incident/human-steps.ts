import { patched, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { HUMAN_STEPS, type HumanStepName } from '../../contracts/incident-steps.js';
import { MAX_PHOTO_BYTES, PHOTO_TYPES, type Actor, type Incident, type IncidentStatus, type StepRequest, type StepRequestOf } from '../../contracts/incident.js';
import { breachInstant, clockState, pauseClock, resumeClock } from '../../contracts/sla-clock.js';
import { refuse } from './failures.js';
import { stepUpdates } from './messages.js';
import { VERIFY_WHEN_HEALTHY } from './patches.js';
import type { ProjectionSaver } from './projection-saver.js';
import type { IncidentState } from './state.js';

const PHOTO_TYPE_SET: ReadonlySet<string> = new Set(PHOTO_TYPES);

/**
 * The steps people take, each an Update whose validator refuses a wrong role, state or request
 * (the table in contracts/incident-steps.ts) or what this incident does not allow, before anything
 * is recorded. Each answers once the projection holds its change.
 */
export function registerHumanSteps(state: IncidentState, saver: ProjectionSaver): void {
  const { incident } = state;

  step('acknowledge', () => {
    if (incident.acknowledgedAt) refuse('the incident is already acknowledged', 'InvalidTransition');
  }, ({ actor, note }, record) => {
    state.acknowledgeNow();
    if (incident.status === 'opened') state.setStatus('acknowledged');
    record(actor, note);
  });

  step('assign', null, ({ actor, note, technician }, record) => {
    state.acknowledgeNow();
    state.assignTo(technician);
    if (incident.status !== 'remote-fix') state.setStatus('dispatched');
    record(actor, note, { technician });
  });

  step('claim', (request) => {
    if (incident.assignee && incident.assignee.id !== request.actor.id) refuse(`the task is assigned to ${incident.assignee.name}`, 'InvalidTransition');
  }, ({ actor, note }, record) => {
    state.acknowledgeNow();
    state.assignTo({ id: actor.id, name: actor.name });
    state.setStatus('accepted');
    record(actor, note);
  });

  step('unclaim', (request) => {
    if (request.actor.role === 'technician' && incident.assignee?.id !== request.actor.id) refuse('only the assignee may hand a task back', 'Forbidden');
  }, ({ actor, note }, record) => {
    state.assignTo(null);
    state.setStatus('acknowledged');
    record(actor, note);
  });

  step('accept', assigneeOnly, ({ actor, note }, record) => {
    state.setStatus('accepted');
    record(actor, note);
  });

  step('arrive', assigneeOnly, ({ actor, note }, record) => {
    state.setStatus('on-site');
    record(actor, note);
  });

  step('diagnose', null, ({ actor, note, rootCause, evidence }, record) => {
    incident.rootCause = { cause: rootCause, evidence: evidence ?? null };
    record(actor, note, { rootCause, evidence: evidence ?? null });
  });

  step('fix', (request) => {
    for (const photo of request.photos ?? []) {
      if (!photo.id) refuse(`photo ${photo.name}: photos are referenced by upload id (POST /api/incidents/{id}/photos, then photoIds)`, 'InvalidRequest');
      if (!PHOTO_TYPE_SET.has(photo.contentType)) refuse(`photo ${photo.name}: ${photo.contentType} is not accepted (${PHOTO_TYPES.join(', ')})`, 'InvalidRequest');
      if (photo.sizeBytes > MAX_PHOTO_BYTES) refuse(`photo ${photo.name} is ${photo.sizeBytes} bytes; at most ${MAX_PHOTO_BYTES}`, 'InvalidRequest');
    }
    // A technician fixes the task they work, on site: the agreement's checklist answered, every item.
    if (request.actor.role === 'technician') {
      assigneeOnly(request);
      const unanswered = incident.terms.checklist.filter((item) => !answered(request.checklist?.[item]));
      if (unanswered.length > 0) refuse(`fix.checklist: every item of the agreement's checklist needs an answer (true, false or text); unanswered: ${unanswered.join('; ')}`, 'InvalidRequest');
    }
  }, ({ actor, note, partsUsed, checklist, photos }, record) => {
    state.acknowledgeNow();
    state.completeTask();
    record(actor, note, { partsUsed: partsUsed ?? [], checklist: checklist ?? {}, photos: photos ?? [] });
    if (incident.connectorHealthy === false && patched(VERIFY_WHEN_HEALTHY)) state.awaitHealthy(actor, 'on-site');
    else state.startVerification(actor, 'on-site');
  });

  step('pause', (request) => {
    if (!incident.terms.pauseReasons.includes(request.reason)) refuse(`the agreement does not allow pausing for ${request.reason}; allowed: ${incident.terms.pauseReasons.join(', ') || 'none'}`, 'InvalidRequest');
    if (clockState(incident.clocks.fix, new Date()).paused) refuse('the clocks are already paused', 'InvalidTransition');
  }, ({ actor, note, reason }, record) => {
    const now = new Date();
    const paused = [pauseClock(incident.clocks.response, now, reason) && 'response', pauseClock(incident.clocks.fix, now, reason) && 'fix'].filter(Boolean);
    record(actor, note, { reason, clocks: paused });
  });

  step('resume', () => {
    if (!clockState(incident.clocks.fix, new Date()).paused && !clockState(incident.clocks.response, new Date()).paused) refuse('the clocks are not paused', 'InvalidTransition');
  }, ({ actor, note }, record) => {
    const now = new Date();
    const resumed = [resumeClock(incident.clocks.response, now) && 'response', resumeClock(incident.clocks.fix, now) && 'fix'].filter(Boolean);
    record(actor, note, { clocks: resumed, fixBy: breachInstant(incident.clocks.fix)?.toISOString() ?? null });
  });

  // Cancelling and resolving record their step as they close the incident (with both clocks' state).
  step('cancel', (request) => {
    if (!request.reason.trim()) refuse('a cancellation needs a reason', 'InvalidRequest');
  }, ({ actor, note, reason }) => {
    state.close('cancelled', `cancelled: ${reason}`, actor);
    state.addNote(actor, note);
  });

  step('resolve', null, ({ actor, note }) => {
    state.close('resolved', 'closed-by-dispatcher', actor);
    state.addNote(actor, note);
  });

  /**
   * Takes a human step as the table says (who, in which states, with what request), after the
   * step's own checks on this incident; `apply` changes the incident and records the step's entry.
   * A refused step records nothing. The update answers once the projection holds the change.
   */
  function step<N extends HumanStepName>(
    name: N,
    validate: ((request: StepRequestOf<N>) => void) | null,
    apply: (request: StepRequestOf<N>, record: (actor: Actor, note?: string | null, data?: Record<string, unknown>) => void) => void,
  ) {
    const { roles, records } = HUMAN_STEPS[name];
    const from: readonly IncidentStatus[] = HUMAN_STEPS[name].from;
    const update = stepUpdates[name] as unknown as UpdateDefinition<Incident, [StepRequestOf<N>]>;
    const record = (actor: Actor, note?: string | null, data?: Record<string, unknown>) => state.record(records, actor, note, data ?? null);
    setHandler(
      update,
      async (request) => {
        apply(request, record);
        await saver.saved(incident.revision);
        return incident;
      },
      {
        validator: (request) => {
          if (request.incidentId !== undefined && request.incidentId !== incident.id) refuse(`cannot ${name} incident ${request.incidentId}: it is closed, and incident ${incident.id} runs for this connector now`, 'InvalidTransition');
          if (!(roles as readonly string[]).includes(request.actor.role)) refuse(`the ${request.actor.role} role may not ${name} an incident; allowed: ${roles.join(', ')}`, 'Forbidden');
          if (!from.includes(incident.status)) refuse(`cannot ${name} an incident that is ${incident.status}`, 'InvalidTransition');
          // The request itself, as the API checks it: a client that reaches Temporal directly is held to
          // the same rules. `photos` is the API's translation of photoIds, checked by the fix step.
          const { photos: _uploads, ...sent } = request as StepRequestOf<N> & { photos?: unknown };
          // Read here, not at registration: the schema is built when a person first takes the step.
          const checked = HUMAN_STEPS[name].request.safeParse(sent);
          if (!checked.success) refuse(checked.error.issues.map((i) => `${[name, ...i.path].join('.')}: ${i.message}`).join('; '), 'InvalidRequest');
          validate?.(request);
        },
      },
    );
  }

  function answered(answer: boolean | string | undefined): boolean {
    return typeof answer === 'boolean' || (typeof answer === 'string' && answer.trim() !== '');
  }

  function assigneeOnly(request: StepRequest) {
    if (incident.assignee?.id !== request.actor.id) refuse(incident.assignee ? `the task is assigned to ${incident.assignee.name}` : 'the task is not assigned to you; claim it first', 'Forbidden');
  }
}
