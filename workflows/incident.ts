import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy, UpdateDefinition } from '@temporalio/common';
import type { ChargerCommandActivities } from '../activities/charger-commands.js';
import type { ChargerActivities } from '../activities/chargers.js';
import type { IncidentActivities } from '../activities/incidents.js';
import { gatewayTaskQueue } from '../contracts/connectivity.js';
import { describeTrigger, dueEscalations, type DueEscalation } from '../contracts/escalation.js';
import { MAIL_REFUSED, type NotificationActivities } from '../contracts/notifications.js';
import { HUMAN_STEPS, type HumanStepName } from '../contracts/incident-steps.js';
import {
  ACTIVE_STATUSES,
  CLOSED_STATUSES,
  DEFAULT_ENGINE_TERMS,
  MAX_PHOTO_BYTES,
  PHOTO_TYPES,
  type Actor,
  type ChargerSignal,
  type FaultReport,
  type Incident,
  type IncidentChange,
  type IncidentInput,
  type IncidentStatus,
  type StepRequest,
  type StepRequestOf,
} from '../contracts/incident.js';
import { DATABASE_REFUSED, storableCopy } from '../contracts/storable-text.js';
import { cancelClock, clockState, instantAt, markBreached, newClock, pauseClock, restartClock, resumeClock, stopClock } from '../contracts/sla-clock.js';

export const faultReported = defineSignal<[FaultReport]>('faultReported');
export const chargerReported = defineSignal<[ChargerSignal]>('chargerReported');

/** Each human step (contracts/incident-steps.ts) is a Temporal Update of the same name. */
const stepUpdate = <N extends HumanStepName>(name: N) => defineUpdate<Incident, [StepRequestOf<N>], N>(name);
export const acknowledge = stepUpdate('acknowledge');
export const assign = stepUpdate('assign');
export const claim = stepUpdate('claim');
export const unclaim = stepUpdate('unclaim');
export const accept = stepUpdate('accept');
export const arrive = stepUpdate('arrive');
export const diagnose = stepUpdate('diagnose');
export const fix = stepUpdate('fix');
export const pause = stepUpdate('pause');
export const resume = stepUpdate('resume');
export const cancel = stepUpdate('cancel');
export const resolve = stepUpdate('resolve');
/** The Updates by step name, for callers that take a step by its name (the API). */
export const stepUpdates: { [N in HumanStepName]: UpdateDefinition<Incident, [StepRequestOf<N>], N> } = { acknowledge, assign, claim, unclaim, accept, arrive, diagnose, fix, pause, resume, cancel, resolve };
export const incidentQuery = defineQuery<Incident>('incident');

const retry: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute' };
const { saveIncident } = proxyActivities<IncidentActivities>({ startToCloseTimeout: '30 seconds', retry });
/**
 * The projection is saved by a local activity: it runs in the worker that holds the workflow,
 * inside the workflow task, and costs the history one marker instead of an activity task's three
 * events and a second workflow task. Histories from before it keep the scheduled activity.
 */
const PROJECTION_SAVED_LOCALLY = 'projection-saved-locally';
const local = proxyLocalActivities<IncidentActivities>({ startToCloseTimeout: '30 seconds', retry });
const { sendEscalation } = proxyActivities<NotificationActivities>({ startToCloseTimeout: '1 minute', retry });
const { locateCharger } = proxyActivities<ChargerActivities>({ startToCloseTimeout: '30 seconds', retry });

/** Statuses that say a connector (or, for connector 0, the charger) works again. */
const HEALTHY = new Set(['Available', 'Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing', 'Occupied', 'Reserved', 'Online']);
const PHOTO_TYPE_SET: ReadonlySet<string> = new Set(PHOTO_TYPES);

/**
 * One incident on one connector, the way the agreement says to run it:
 *
 *   open (clocks start, retroactively if allowed)
 *   → remote fix when the fault class allows it: soft reset, wait; hard reset, wait
 *   → otherwise, or if the charger did not recover, a dispatch task for the field crew
 *   → a technician accepts, arrives, diagnoses, fixes
 *   → verify: the connector stays healthy for the verification window (or completes a session);
 *     a recurrence returns it to fixing as a new cycle
 *   → resolved with the SLA outcome; a fault within the flapping window after that reopens it.
 *
 * Meanwhile the response and fix clocks run on the agreement's calendar, pause and resume, breach,
 * and escalate by the agreement's levels.
 */
export async function incidentWorkflow(input: IncidentInput): Promise<Incident> {
  const incident = input.resume?.incident ?? openIncident(input);
  incident.runId = workflowInfo().runId;
  const saver = new ProjectionSaver(incident, input.resume?.savedFaults ?? 0, input.resume?.savedSteps ?? 0, projectionRefused);
  const faultsAfterClose: FaultReport[] = [];
  /** The charger's latest report on this connector, and when it arrived (workflow time). */
  let lastSignal: { signal: ChargerSignal; receivedAt: number } | null = null;
  let remoteFixRunning = false;
  let escalationsInFlight = 0;
  /** Resolved, and waiting out the flapping window in which a fault reopens it. */
  let settling = false;
  let finished = false;

  setHandler(incidentQuery, () => incident);
  setHandler(faultReported, (fault) => {
    const seen = (f: FaultReport) => f.eventId === fault.eventId;
    if (incident.faults.some(seen) || faultsAfterClose.some(seen)) return;
    if (isClosed() && !settling) {
      faultsAfterClose.push(fault);
      return;
    }
    incident.faults.push(fault);
    if ((incident.status === 'verifying' || (incident.status === 'resolved' && settling)) && !receivedBeforeTheFix(fault)) recurrence(fault);
    saver.changed();
  });
  const signalsSeen: string[] = [...(input.resume?.signalsSeen ?? [])];
  setHandler(chargerReported, (signal) => {
    if (isClosed() || signalsSeen.includes(signal.eventId)) return;
    signalsSeen.push(signal.eventId);
    if (signalsSeen.length > 500) signalsSeen.shift();
    lastSignal = { signal, receivedAt: Date.now() };
    addStep('charger-status', system, null, { kind: signal.kind, status: signal.status, reportedAt: signal.at });
    if (incident.status === 'verifying' && signal.kind === 'session-completed' && incident.verification && signal.at >= incident.verification.startedAt) {
      close('resolved', 'session-completed', system);
    }
    // An offline charger that is back is fixed (often someone rebooted a router); verification decides.
    if (incident.source === 'offline' && signal.kind === 'online' && ACTIVE_STATUSES.includes(incident.status)) startVerification(system, 'back-online');
  });

  humanSteps();

  saver.changed();
  void clockLoop();

  // The work: a remote fix first when the agreement allows it, else straight to the field crew.
  if (!input.resume) {
    if (incident.terms.remoteFix && incident.source === 'fault') await remoteFix();
    else openTask();
  }

  // Closed, then settled: a fault within the flapping window reopens the same incident.
  for (;;) {
    await condition(() => isClosed() || workflowInfo().continueAsNewSuggested);
    if (!isClosed()) {
      await condition(() => !remoteFixRunning && escalationsInFlight === 0 && allHandlersFinished());
      await saver.drain();
      // The new run saves on from where this one's saves ended, not from the array lengths: with
      // those, faults that were in `incident` but not yet in the database were never stored.
      return continueAsNew<typeof incidentWorkflow>({ ...input, resume: { incident, ...saver.savedCounts(), signalsSeen } });
    }
    if (incident.status === 'cancelled') break;
    settling = true;
    const reopened = await condition(() => !isClosed(), incident.terms.flappingWindowMs);
    settling = false;
    if (!reopened) break;
  }
  finished = true;
  await condition(() => escalationsInFlight === 0 && allHandlersFinished());
  await saver.drain();
  if (faultsAfterClose.length > 0) {
    // Faults after the settle window belong to the next incident on this connector.
    await continueAsNew<typeof incidentWorkflow>({ ...input, resume: undefined, faults: faultsAfterClose });
  }
  return incident;

  // ── phases ───────────────────────────────────────────────────────────────────────────────

  async function remoteFix() {
    remoteFixRunning = true;
    setStatus('remote-fix');
    addStep('remote-fix-started', system);
    let recovered = false;
    for (const kind of ['soft', 'hard'] as const) {
      if (incident.status !== 'remote-fix') break; // a human took over
      const sentAt = Date.now();
      const answer = await reset(kind);
      const attempt = { kind, at: new Date(sentAt).toISOString(), answer, recovered: false };
      incident.remoteFix.push(attempt);
      addStep('remote-fix-attempt', system, null, { kind, answer });
      if (answer === 'ChargerOffline') break;
      if (answer !== 'Accepted') continue;
      const recoveredSinceReset = () => lastSignal !== null && lastSignal.receivedAt >= sentAt && HEALTHY.has(lastSignal.signal.status);
      attempt.recovered = await condition(() => incident.status !== 'remote-fix' || recoveredSinceReset(), incident.terms.remoteFixWaitMs);
      attempt.recovered &&= incident.status === 'remote-fix';
      addStep('remote-fix-result', system, null, { kind, recovered: attempt.recovered });
      if (attempt.recovered) {
        recovered = true;
        break;
      }
    }
    remoteFixRunning = false;
    if (incident.status !== 'remote-fix') {
      // Someone took over meanwhile (assigned, claimed): the work goes on as a task, in their phase.
      if (!isClosed() && incident.status !== 'verifying') ensureTask();
      return;
    }
    if (recovered) startVerification(system, 'remote-fix');
    else openTask();
  }

  /** Sends a reset through the gateway holding the charger's socket; answers 'Accepted', 'Rejected', 'ChargerOffline' or the failure. */
  async function reset(kind: 'soft' | 'hard'): Promise<string> {
    const where = await locateCharger({ chargerId: incident.chargerId });
    if (!where.connected || !where.gatewayNode) return 'ChargerOffline';
    const { resetCharger } = proxyActivities<ChargerCommandActivities>({
      taskQueue: gatewayTaskQueue(workflowInfo().taskQueue, where.gatewayNode),
      scheduleToStartTimeout: '10 seconds',
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 1 },
    });
    try {
      return (await resetCharger({ chargerId: incident.chargerId, kind })).status;
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : error;
      if (cause instanceof ApplicationFailure && cause.type) return cause.type;
      return 'failed';
    }
  }

  function openTask() {
    setStatus(incident.assignee ? 'dispatched' : incident.acknowledgedAt ? 'acknowledged' : 'opened');
    ensureTask();
  }

  /** The incident's field-crew task: the open one, or a new one (assigned if the incident is). */
  function ensureTask() {
    const open = incident.tasks.find((t) => t.status === 'open' || t.status === 'claimed');
    if (open) return;
    const now = new Date().toISOString();
    incident.tasks.push({
      id: `${incident.id}:${incident.tasks.length + 1}`,
      kind: 'dispatch',
      status: incident.assignee ? 'claimed' : 'open',
      assignee: incident.assignee,
      createdAt: now,
      updatedAt: now,
      completedAt: null,
      dueAt: null,
      checklist: incident.terms.checklist,
    });
    addStep('task-created', system, null, { taskId: incident.tasks.at(-1)!.id });
  }

  function startVerification(actor: Actor, how: string) {
    const now = Date.now();
    stopClock(incident.clocks.fix, new Date(now));
    incident.verification = { startedAt: new Date(now).toISOString(), endsAt: new Date(now + incident.terms.verificationWindowMs).toISOString() };
    setStatus('verifying');
    addStep('verification-started', actor, null, { fixedBy: how, until: incident.verification.endsAt });
  }

  /**
   * A fault Concierge received before the fix was reported, but delivered only after it (a relay
   * backlog, a restart), is one more occurrence of the fault that was fixed, not a recurrence.
   * Faults without a receipt time (reports made in the API, older events) count as new.
   */
  function receivedBeforeTheFix(fault: FaultReport): boolean {
    return fault.receivedAt !== undefined && incident.verification !== null && fault.receivedAt < incident.verification.startedAt;
  }

  /** A fault during verification (or within the flapping window after resolution): back to fixing, as a new cycle. */
  function recurrence(fault: FaultReport) {
    const now = new Date();
    const wasResolved = incident.status === 'resolved';
    restartClock(incident.clocks.fix, now);
    incident.verification = null;
    incident.resolvedAt = null;
    incident.outcome = null;
    addStep(wasResolved ? 'reopened' : 'recurred', system, null, { cycle: incident.clocks.fix.cycles.length, fault: fault.errorCode });
    reopenTask();
    openTask();
  }

  function reopenTask() {
    const last = incident.tasks.at(-1);
    if (last && last.status === 'done') {
      last.status = last.assignee ? 'claimed' : 'open';
      last.completedAt = null;
      last.updatedAt = new Date().toISOString();
    }
  }

  function close(status: 'resolved' | 'cancelled', outcome: string, actor: Actor) {
    const now = new Date();
    stopClock(incident.clocks.response, now);
    if (status === 'resolved') {
      stopClock(incident.clocks.fix, now);
      incident.resolvedAt = now.toISOString();
    } else {
      cancelClock(incident.clocks.response, now);
      cancelClock(incident.clocks.fix, now);
      incident.cancelledAt = now.toISOString();
    }
    for (const task of incident.tasks) {
      if (task.status === 'open' || task.status === 'claimed') {
        task.status = status === 'resolved' ? 'done' : 'cancelled';
        task.updatedAt = now.toISOString();
        task.completedAt = now.toISOString();
      }
    }
    incident.outcome = outcome;
    setStatus(status);
    addStep(status, actor, null, { outcome, response: clockState(incident.clocks.response, now), fix: clockState(incident.clocks.fix, now) });
  }

  // ── clocks: breaches, escalations and the end of verification, on one movable timer ──────

  async function clockLoop() {
    while (!finished) {
      const next = nextTimedEvent();
      const revision = incident.revision;
      const moved = () => incident.revision !== revision || finished;
      if (!next) await condition(moved);
      else if (!(await condition(moved, Math.max(1, next.at - Date.now())))) await next.fire();
    }
  }

  function nextTimedEvent(): { at: number; fire(): Promise<void> | void } | null {
    const events: Array<{ at: number; fire(): Promise<void> | void }> = [];
    for (const name of ['response', 'fix'] as const) {
      const clock = incident.clocks[name];
      const cycle = clock.cycles.at(-1)!;
      const breachAt = cycle.breachedAt ? null : instantAt(clock, clock.targetMs);
      if (breachAt) {
        events.push({
          at: breachAt.getTime(),
          fire: () => {
            markBreached(clock, breachAt);
            addStep(`${name}-breached`, system, null, { cycle: clock.cycles.length, deadline: breachAt.toISOString() });
          },
        });
      }
    }
    if (!isClosed()) {
      const [escalation] = dueEscalations(incident.id, incident.terms.escalation, incident.clocks, incident.acknowledgedAt !== null, incident.escalations);
      // Sent beside the loop: a mail server that is down must not hold up breaches or verification.
      if (escalation) events.push({ at: escalation.at.getTime(), fire: () => void escalate(escalation) });
    }
    if (incident.status === 'verifying' && incident.verification) {
      events.push({ at: Date.parse(incident.verification.endsAt), fire: () => close('resolved', 'verified', system) });
    }
    return events.sort((a, b) => a.at - b.at)[0] ?? null;
  }

  async function escalate(due: DueEscalation) {
    // Marked due-and-handled at once, so the loop moves on to the next event while it is sent.
    incident.escalations.push(due.key);
    escalationsInFlight++;
    const state = clockState(incident.clocks[due.clock], new Date());
    const trigger = describeTrigger(due.level.trigger);
    const sent = { level: due.level.level, trigger, repeat: due.repeat, recipients: due.level.recipients.map((r) => r.email) };
    try {
      // The notice is recorded in the database too: its texts go as the database can store them.
      await sendEscalation(storableCopy({
        key: due.key,
        incidentId: incident.id,
        level: due.level.level,
        trigger,
        repeat: due.repeat,
        recipients: due.level.recipients,
        chargerId: incident.chargerId,
        connectorId: incident.connectorId,
        priority: incident.priority,
        siteName: incident.site?.name ?? null,
        siteAddress: incident.site?.address ?? null,
        agreementName: incident.terms.agreementName,
        status: incident.status,
        openedAt: incident.openedAt,
        clock: due.clock,
        deadline: state.breachAt,
        percentElapsed: state.percent,
        faultSummary: incident.faults.map((f) => f.errorCode).filter((code, i, all) => all.indexOf(code) === i).join(', ') || (incident.report?.description ?? incident.source),
      }));
      addStep('escalated', system, null, sent);
    } catch (error) {
      // Refused for good (unknown mailbox, relaying denied, data the database cannot record): on
      // record for the people who read the incident, and the incident goes on. Anything else is
      // retried until it goes through.
      const refusal = refusedFailure(error, MAIL_REFUSED) ?? refusedFailure(error, DATABASE_REFUSED);
      if (!refusal) throw error;
      addStep('escalation-failed', system, null, { ...sent, reason: refusal.message });
    } finally {
      escalationsInFlight--;
    }
  }

  // ── human steps: Updates whose validators refuse a wrong role or state before anything is recorded ──

  function humanSteps() {
    step('acknowledge', () => {
      if (incident.acknowledgedAt) refuse('the incident is already acknowledged', 'InvalidTransition');
    }, ({ actor, note }, record) => {
      acknowledgeNow();
      if (incident.status === 'opened') setStatus('acknowledged');
      record(actor, note);
    });

    step('assign', null, ({ actor, note, technician }, record) => {
      acknowledgeNow();
      assignTo(technician);
      if (incident.status !== 'remote-fix') setStatus('dispatched');
      record(actor, note, { technician });
    });

    step('claim', (request) => {
      if (incident.assignee && incident.assignee.id !== request.actor.id) refuse(`the task is assigned to ${incident.assignee.name}`, 'InvalidTransition');
    }, ({ actor, note }, record) => {
      acknowledgeNow();
      assignTo({ id: actor.id, name: actor.name });
      setStatus('accepted');
      record(actor, note);
    });

    step('unclaim', (request) => {
      if (request.actor.role === 'technician' && incident.assignee?.id !== request.actor.id) refuse('only the assignee may hand a task back', 'Forbidden');
    }, ({ actor, note }, record) => {
      assignTo(null);
      setStatus('acknowledged');
      record(actor, note);
    });

    step('accept', assigneeOnly, ({ actor, note }, record) => {
      setStatus('accepted');
      record(actor, note);
    });

    step('arrive', assigneeOnly, ({ actor, note }, record) => {
      setStatus('on-site');
      record(actor, note);
    });

    step('diagnose', null, ({ actor, note, rootCause, evidence }, record) => {
      incident.rootCause = { cause: rootCause, evidence: evidence ?? null };
      record(actor, note, { rootCause, evidence: evidence ?? null });
    });

    step('fix', (request) => {
      for (const photo of request.photos ?? []) {
        if (!PHOTO_TYPE_SET.has(photo.contentType)) refuse(`photo ${photo.name}: ${photo.contentType} is not accepted (${PHOTO_TYPES.join(', ')})`, 'InvalidRequest');
        if (photo.sizeBytes > MAX_PHOTO_BYTES) refuse(`photo ${photo.name} is ${photo.sizeBytes} bytes; at most ${MAX_PHOTO_BYTES}`, 'InvalidRequest');
      }
      if (request.actor.role === 'technician' && incident.assignee && incident.assignee.id !== request.actor.id) refuse(`the task is assigned to ${incident.assignee.name}`, 'Forbidden');
    }, ({ actor, note, partsUsed, checklist, photos }, record) => {
      acknowledgeNow();
      const task = incident.tasks.find((t) => t.status === 'open' || t.status === 'claimed');
      if (task) {
        task.status = 'done';
        task.completedAt = new Date().toISOString();
        task.updatedAt = task.completedAt;
      }
      record(actor, note, { partsUsed: partsUsed ?? [], checklist: checklist ?? {}, photos: photos ?? [] });
      startVerification(actor, 'on-site');
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
      record(actor, note, { clocks: resumed, fixBy: instantAt(incident.clocks.fix, incident.clocks.fix.targetMs)?.toISOString() ?? null });
    });

    // Cancelling and resolving record their step as they close the incident (with both clocks' state).
    step('cancel', (request) => {
      if (!request.reason.trim()) refuse('a cancellation needs a reason', 'InvalidRequest');
    }, ({ actor, note, reason }) => {
      close('cancelled', `cancelled: ${reason}`, actor);
      addNote(actor, note);
    });

    step('resolve', null, ({ actor, note }) => {
      close('resolved', 'closed-by-dispatcher', actor);
      addNote(actor, note);
    });
  }

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
    const { roles, records, request: schema } = HUMAN_STEPS[name];
    const from: readonly IncidentStatus[] = HUMAN_STEPS[name].from;
    const update = stepUpdates[name] as unknown as UpdateDefinition<Incident, [StepRequestOf<N>]>;
    const record = (actor: Actor, note?: string | null, data?: Record<string, unknown>) => addStep(records, actor, note, data ?? null);
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
          // The request itself, as the API checks it: a client that reaches Temporal directly is held to the same rules.
          const checked = schema.safeParse(request);
          if (!checked.success) refuse(checked.error.issues.map((i) => `${[name, ...i.path].join('.')}: ${i.message}`).join('; '), 'InvalidRequest');
          validate?.(request);
        },
      },
    );
  }

  function assigneeOnly(request: StepRequest) {
    if (incident.assignee?.id !== request.actor.id) refuse(incident.assignee ? `the task is assigned to ${incident.assignee.name}` : 'the task is not assigned to you; claim it first', 'Forbidden');
  }

  // ── state helpers ────────────────────────────────────────────────────────────────────────

  function acknowledgeNow() {
    if (incident.acknowledgedAt) return;
    const now = new Date();
    incident.acknowledgedAt = now.toISOString();
    stopClock(incident.clocks.response, now);
  }

  function assignTo(technician: { id: string; name: string } | null) {
    incident.assignee = technician;
    const task = incident.tasks.find((t) => t.status === 'open' || t.status === 'claimed');
    if (task) {
      task.assignee = technician;
      task.status = technician ? 'claimed' : 'open';
      task.updatedAt = new Date().toISOString();
    }
  }

  function setStatus(status: IncidentStatus) {
    incident.status = status;
    saver.changed();
  }

  function isClosed() {
    return CLOSED_STATUSES.includes(incident.status);
  }

  function addNote(actor: Actor, note: string | null | undefined) {
    if (note) addStep('note', actor, note);
  }

  /**
   * The database refused the projection for good: on record and alerted once; from then on the
   * projection is saved as the database can store it (see ProjectionSaver), and the incident goes on.
   */
  function projectionRefused(cause: string) {
    if (incident.degraded) return;
    log.error('incident projection refused by the database; saving it with unstorable characters replaced', { incidentId: incident.id, chargerId: incident.chargerId, connectorId: incident.connectorId, cause });
    incident.degraded = { since: new Date().toISOString(), cause };
    addStep('projection-degraded', system, null, { cause });
  }

  function addStep(step: string, actor: Actor, note?: string | null, data: Record<string, unknown> | null = null): number {
    incident.steps.push({ seq: incident.steps.length + 1, step, actor: actor.name, actorRole: actor.role, note: note ?? null, data, at: new Date().toISOString() });
    return saver.changed();
  }
}

const system: Actor = { id: 'system', name: 'system', role: 'system' };

function refuse(message: string, type: 'Forbidden' | 'InvalidTransition' | 'InvalidRequest'): never {
  throw ApplicationFailure.nonRetryable(message, type);
}

/**
 * The activity's failure when it failed for good with this type (not retried), else null. An
 * activity's failure comes wrapped in an ActivityFailure; a local activity's arrives as it is.
 */
function refusedFailure(error: unknown, type: string): ApplicationFailure | null {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === type ? cause : null;
}

/** A new incident: clocks started now, or at the first fault's time when the agreement allows a retroactive start. */
function openIncident(input: IncidentInput): Incident {
  const now = new Date();
  const terms = input.terms ?? DEFAULT_ENGINE_TERMS;
  const firstReported = input.faults?.[0]?.at ? new Date(input.faults[0].at) : null;
  const clockStart =
    terms.retroactiveStartUpToMs !== null && firstReported && firstReported < now
      ? new Date(Math.max(firstReported.getTime(), now.getTime() - terms.retroactiveStartUpToMs))
      : now;
  const calendar = input.sla.calendar ?? null;
  return {
    id: uuid4(),
    workflowId: workflowInfo().workflowId,
    runId: workflowInfo().runId,
    chargerId: input.chargerId,
    connectorId: input.connectorId,
    priority: input.priority,
    agreement: input.agreement,
    site: input.site ?? null,
    source: input.source ?? 'fault',
    report: input.report ?? null,
    status: 'opened',
    openedAt: now.toISOString(),
    acknowledgedAt: null,
    resolvedAt: null,
    cancelledAt: null,
    outcome: null,
    clocks: { response: newClock('response', input.sla.respondWithinMs, calendar, clockStart), fix: newClock('fix', input.sla.fixWithinMs, calendar, clockStart) },
    assignee: null,
    rootCause: null,
    verification: null,
    remoteFix: [],
    tasks: [],
    escalations: [],
    terms,
    faults: [...(input.faults ?? [])],
    steps: [],
    revision: 0,
  };
}

/**
 * Keeps the database projection in step with the workflow: one save at a time, newest state
 * wins, and a burst of changes (a flapping charger) coalesces into a few writes. When the database
 * refuses the data for good, the saver says so (`refused`) and saves from then on a copy it can
 * store (unstorable characters replaced); if even that is refused, the revision is given up (the
 * next change tries again), so steps waiting for their save still answer.
 */
class ProjectionSaver {
  private savedRevision = 0;
  private running = false;

  constructor(
    private readonly incident: Incident,
    private savedFaults: number,
    private savedSteps: number,
    private readonly refused: (cause: string) => void,
  ) {}

  /** Marks the incident changed and returns the revision that holds the change. */
  changed(): number {
    this.incident.revision += 1;
    if (!this.running) {
      this.running = true;
      // After the current step has made all its changes: a save never holds half a step.
      void Promise.resolve().then(() => this.run());
    }
    return this.incident.revision;
  }

  /** Resolves once the given revision is in the database. */
  async saved(revision: number): Promise<void> {
    await condition(() => this.savedRevision >= revision);
  }

  async drain(): Promise<void> {
    await this.saved(this.incident.revision);
  }

  /** How many of the incident's faults and steps the database holds. */
  savedCounts(): { savedFaults: number; savedSteps: number } {
    return { savedFaults: this.savedFaults, savedSteps: this.savedSteps };
  }

  private async run() {
    while (this.savedRevision < this.incident.revision) {
      const { faults, steps, ...state } = this.incident;
      const faultCount = faults.length;
      const stepCount = steps.length;
      const now = new Date();
      const response = clockState(state.clocks.response, now);
      const fix = clockState(state.clocks.fix, now);
      const change: IncidentChange = {
        incident: { ...state, tasks: state.tasks.map((t) => ({ ...t, dueAt: t.status === 'open' || t.status === 'claimed' ? fix.breachAt : t.dueAt })) },
        sla: {
          respondBy: response.breachAt,
          fixBy: fix.breachAt,
          responseBreached: response.breached,
          fixBreached: fix.breached,
          responseEverBreached: response.everBreached,
          fixEverBreached: fix.everBreached,
        },
        newFaults: faults.slice(this.savedFaults, faultCount),
        newSteps: steps.slice(this.savedSteps, stepCount),
      };
      const degraded = Boolean(this.incident.degraded);
      const save = patched(PROJECTION_SAVED_LOCALLY) ? local.saveIncident : saveIncident;
      try {
        await save(degraded ? storableCopy(change) : change);
      } catch (error) {
        const refusal = refusedFailure(error, DATABASE_REFUSED);
        if (!refusal) throw error;
        if (!degraded) {
          this.refused(refusal.message); // a change: the loop saves again, as the database can store it
          continue;
        }
        log.error('incident projection refused by the database even with unstorable characters replaced; this revision is not saved', { incidentId: this.incident.id, revision: state.revision, cause: refusal.message });
        this.savedRevision = state.revision;
        continue;
      }
      this.savedRevision = state.revision;
      this.savedFaults = faultCount;
      this.savedSteps = stepCount;
    }
    this.running = false;
  }
}
