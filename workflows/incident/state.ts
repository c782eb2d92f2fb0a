import { CLOSED_STATUSES, DEFAULT_INCIDENT_RULES, HEALTHY_STATUSES, type Actor, type ChargerReport, type FaultReport, type FaultTerms, type Incident, type IncidentInput, type IncidentStatus } from '../../contracts/incident.js';
import { breachInstant, cancelClock, clockState, markBreached, newClock, restartClock, retargetClock, stopClock } from '../../contracts/sla-clock.js';

/** Concierge itself, as the actor of what the clocks and the charger's reports do. */
export const system: Actor = { id: 'system', name: 'system', role: 'system' };

/** A new incident: clocks started now, or at the first fault's time when the agreement allows a retroactive start. */
export function openIncident(input: IncidentInput, ids: { id: string; workflowId: string; runId: string }, now: Date): Incident {
  const terms = input.terms ?? DEFAULT_INCIDENT_RULES;
  const firstReported = input.faults?.[0]?.at ? new Date(input.faults[0].at) : null;
  const clockStart =
    terms.retroactiveStartUpToMs !== null && firstReported && firstReported < now
      ? new Date(Math.max(firstReported.getTime(), now.getTime() - terms.retroactiveStartUpToMs))
      : now;
  const calendar = input.sla.calendar ?? null;
  return {
    ...ids,
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
    // A fault or an outage opened it: not healthy. A person's report says nothing of the status.
    connectorHealthy: !['fault', 'offline'].includes(input.source ?? 'fault'),
    awaitingHealthy: null,
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
 * The incident and every change the process makes to it, as plain code: each change updates the
 * incident and its timeline and reports itself through `changed` (the projection saver, which
 * returns the new revision). Nothing here waits, calls out or keeps time other than `new Date()`
 * (in a workflow, its deterministic time), so it runs the same without a Temporal server.
 */
export class IncidentState {
  constructor(
    readonly incident: Incident,
    private readonly changed: () => number,
  ) {}

  isClosed(): boolean {
    return CLOSED_STATUSES.includes(this.incident.status);
  }

  setStatus(status: IncidentStatus): void {
    this.incident.status = status;
    this.changed();
  }

  /** Records a timeline entry; returns the revision that holds it. */
  record(step: string, actor: Actor, note?: string | null, data: Record<string, unknown> | null = null): number {
    this.incident.steps.push({ seq: this.incident.steps.length + 1, step, actor: actor.name, actorRole: actor.role, note: note ?? null, data, at: new Date().toISOString() });
    return this.changed();
  }

  addNote(actor: Actor, note: string | null | undefined): void {
    if (note) this.record('note', actor, note);
  }

  /**
   * Records a new fault. While the fix is being verified (or within the flapping window after
   * resolution, `settling`) a fault sends the incident back to fixing, unless it was received before
   * the fix.
   */
  addFault(fault: FaultReport, settling: boolean): void {
    const { incident } = this;
    incident.faults.push(fault);
    incident.connectorHealthy = false;
    // Fixed but not yet healthy: one more fault changes nothing; the wait for health goes on.
    if (incident.awaitingHealthy) {
      this.changed();
      return;
    }
    if ((incident.status === 'verifying' || (incident.status === 'resolved' && settling)) && !this.receivedBeforeTheFix(fault)) this.recurrence(fault);
    this.changed();
  }

  /**
   * A more urgent fault joined: the incident takes its priority, and both clocks its SLA targets
   * from now on — the running cycles are due at the earlier of their deadline and now plus the new
   * target (see `retargetClock`); later cycles run on the new targets.
   */
  raisePriority(terms: FaultTerms, fault: FaultReport): void {
    const { incident } = this;
    const from = incident.priority;
    const now = new Date();
    incident.priority = terms.priority;
    retargetClock(incident.clocks.response, terms.sla.respondWithinMs, terms.sla.calendar ?? null, now);
    retargetClock(incident.clocks.fix, terms.sla.fixWithinMs, terms.sla.calendar ?? null, now);
    const dueAt = (name: 'response' | 'fix') => breachInstant(incident.clocks[name])?.toISOString() ?? null;
    this.record('priority-raised', system, null, { from, to: terms.priority, faultClass: terms.faultClass, fault: fault.errorCode, respondBy: dueAt('response'), fixBy: dueAt('fix') });
  }

  acknowledgeNow(): void {
    if (this.incident.acknowledgedAt) return;
    const now = new Date();
    this.incident.acknowledgedAt = now.toISOString();
    stopClock(this.incident.clocks.response, now);
  }

  assignTo(technician: { id: string; name: string } | null): void {
    this.incident.assignee = technician;
    const task = this.openTaskOrNull();
    if (task) {
      task.assignee = technician;
      task.status = technician ? 'claimed' : 'open';
      task.updatedAt = new Date().toISOString();
    }
  }

  /** Back to the field crew: the status says how far the desk got, and the task is there. */
  openTask(): void {
    const { incident } = this;
    this.setStatus(incident.assignee ? 'dispatched' : incident.acknowledgedAt ? 'acknowledged' : 'opened');
    this.ensureTask();
  }

  /** The incident's field-crew task: the open one, or a new one (assigned if the incident is). */
  ensureTask(): void {
    const { incident } = this;
    if (this.openTaskOrNull()) return;
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
    this.record('task-created', system, null, { taskId: incident.tasks.at(-1)!.id });
  }

  /** The open task is done (a fix was reported). */
  completeTask(): void {
    const task = this.openTaskOrNull();
    if (task) {
      task.status = 'done';
      task.completedAt = new Date().toISOString();
      task.updatedAt = task.completedAt;
    }
  }

  /** What the charger says of the connector now (a status, a reconnect, a completed session). */
  noteReport(report: ChargerReport): void {
    this.incident.connectorHealthy = report.kind === 'session-completed' || HEALTHY_STATUSES.has(report.status);
  }

  /**
   * Fixed, but the connector does not report healthy: verification waits for it, at most the
   * verification window, and the fix clock runs on meanwhile (the fix is not proven yet).
   */
  awaitHealthy(actor: Actor, how: string): void {
    const { incident } = this;
    const now = Date.now();
    incident.awaitingHealthy = { fixedBy: how, since: new Date(now).toISOString(), until: new Date(now + incident.terms.verificationWindowMs).toISOString() };
    this.setStatus('verifying');
    this.record('verification-waiting', actor, null, { fixedBy: how, until: incident.awaitingHealthy.until });
  }

  /** The connector reported healthy after the fix: verification starts now. */
  healthyAfterFix(): void {
    const { incident } = this;
    const how = incident.awaitingHealthy!.fixedBy;
    incident.awaitingHealthy = null;
    this.startVerification(system, how);
  }

  /**
   * The fix has not taken: the connector never reported healthy within the window, or was not
   * healthy when verification ended. Back to the field crew; a verification that had stopped the
   * fix clock starts a new cycle of it.
   */
  fixNotTaken(): void {
    const { incident } = this;
    const waited = incident.awaitingHealthy;
    incident.awaitingHealthy = null;
    if (!waited) {
      restartClock(incident.clocks.fix, new Date());
      incident.verification = null;
    }
    this.record('fix-not-taken', system, null, { while: waited ? 'waiting for the connector to report healthy' : 'verifying', cycle: incident.clocks.fix.cycles.length });
    this.reopenTask();
    this.openTask();
  }

  startVerification(actor: Actor, how: string): void {
    const { incident } = this;
    const now = Date.now();
    stopClock(incident.clocks.fix, new Date(now));
    incident.verification = { startedAt: new Date(now).toISOString(), endsAt: new Date(now + incident.terms.verificationWindowMs).toISOString() };
    this.setStatus('verifying');
    this.record('verification-started', actor, null, { fixedBy: how, until: incident.verification.endsAt });
  }

  /**
   * A fault Concierge received before the fix was reported, but delivered only after it (a relay
   * backlog, a restart), is one more occurrence of the fault that was fixed, not a recurrence.
   * Faults without a receipt time (reports made in the API, older events) count as new.
   */
  receivedBeforeTheFix(fault: FaultReport): boolean {
    const { verification } = this.incident;
    return fault.receivedAt !== undefined && verification !== null && fault.receivedAt < verification.startedAt;
  }

  /** A fault during verification (or within the flapping window after resolution): back to fixing, as a new cycle. */
  recurrence(fault: FaultReport): void {
    const { incident } = this;
    const now = new Date();
    const wasResolved = incident.status === 'resolved';
    restartClock(incident.clocks.fix, now);
    incident.verification = null;
    incident.resolvedAt = null;
    incident.outcome = null;
    this.record(wasResolved ? 'reopened' : 'recurred', system, null, { cycle: incident.clocks.fix.cycles.length, fault: fault.errorCode });
    this.reopenTask();
    this.openTask();
  }

  close(status: 'resolved' | 'cancelled', outcome: string, actor: Actor): void {
    const { incident } = this;
    incident.awaitingHealthy = null;
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
    this.setStatus(status);
    this.record(status, actor, null, { outcome, response: clockState(incident.clocks.response, now), fix: clockState(incident.clocks.fix, now) });
  }

  /** A clock reached its deadline in its current cycle. */
  breached(name: 'response' | 'fix', deadline: Date): void {
    const clock = this.incident.clocks[name];
    markBreached(clock, deadline);
    this.record(`${name}-breached`, system, null, { cycle: clock.cycles.length, deadline: deadline.toISOString() });
  }

  /** The database refused the projection for good: on record once; false when it already was. */
  degraded(cause: string): boolean {
    if (this.incident.degraded) return false;
    this.incident.degraded = { since: new Date().toISOString(), cause };
    this.record('projection-degraded', system, null, { cause });
    return true;
  }

  private reopenTask(): void {
    const last = this.incident.tasks.at(-1);
    if (last && last.status === 'done') {
      last.status = last.assignee ? 'claimed' : 'open';
      last.completedAt = null;
      last.updatedAt = new Date().toISOString();
    }
  }

  private openTaskOrNull() {
    return this.incident.tasks.find((t) => t.status === 'open' || t.status === 'claimed') ?? null;
  }
}
