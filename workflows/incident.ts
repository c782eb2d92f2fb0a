import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { IncidentActivities } from '../activities/incidents.js';
import type { FaultReport, Incident, IncidentInput, IncidentStatus, StepRequest } from '../contracts/incident.js';
import { slaDeadlines } from '../contracts/sla.js';

export const faultReported = defineSignal<[FaultReport]>('faultReported');
export const acknowledge = defineUpdate<Incident, [StepRequest]>('acknowledge');
export const resolve = defineUpdate<Incident, [StepRequest]>('resolve');
export const incidentQuery = defineQuery<Incident>('incident');

const projection = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** One incident on one connector: opened → acknowledged → resolved, against the response and fix clocks. */
export async function incidentWorkflow(input: IncidentInput): Promise<Incident> {
  const openedAt = new Date();
  const { respondBy, fixBy } = slaDeadlines(openedAt, input.sla);
  const incident: Incident = {
    id: uuid4(),
    workflowId: workflowInfo().workflowId,
    runId: workflowInfo().runId,
    chargerId: input.chargerId,
    connectorId: input.connectorId,
    priority: input.priority,
    agreement: input.agreement,
    status: 'opened',
    openedAt: openedAt.toISOString(),
    acknowledgedAt: null,
    resolvedAt: null,
    respondBy: respondBy.toISOString(),
    fixBy: fixBy.toISOString(),
    responseBreached: false,
    fixBreached: false,
    faults: [...(input.faults ?? [])],
    steps: [],
    revision: 1,
  };
  const saver = new ProjectionSaver(incident);
  const faultsAfterClose: FaultReport[] = [];

  setHandler(incidentQuery, () => incident);
  setHandler(faultReported, (fault) => {
    const seen = (f: FaultReport) => f.eventId === fault.eventId;
    if (incident.faults.some(seen) || faultsAfterClose.some(seen)) return;
    if (incident.status === 'resolved') faultsAfterClose.push(fault);
    else {
      incident.faults.push(fault);
      saver.changed();
    }
  });
  setHandler(
    acknowledge,
    async ({ actor, note }) => {
      incident.status = 'acknowledged';
      incident.acknowledgedAt = new Date().toISOString();
      await saver.saved(addStep('acknowledged', actor.name, note));
      return incident;
    },
    { validator: (request) => allowStep(request, 'acknowledge', ['opened']) },
  );
  setHandler(
    resolve,
    async ({ actor, note }) => {
      incident.status = 'resolved';
      incident.resolvedAt = new Date().toISOString();
      await saver.saved(addStep('resolved', actor.name, note));
      return incident;
    },
    { validator: (request) => allowStep(request, 'resolve', ['opened', 'acknowledged']) },
  );

  saver.changed();
  await Promise.all([responseClock(), fixClock()]);
  await condition(() => incident.status === 'resolved');
  await condition(allHandlersFinished);
  await saver.drain();

  if (faultsAfterClose.length > 0) {
    // A fault that arrived while this incident was closing belongs to the next incident.
    await continueAsNew<typeof incidentWorkflow>({ ...input, faults: faultsAfterClose });
  }
  return incident;

  async function responseClock() {
    const responded = await condition(() => incident.status !== 'opened', msUntil(respondBy));
    if (!responded) {
      incident.responseBreached = true;
      addStep('response-breached', 'system');
    }
  }

  async function fixClock() {
    const fixed = await condition(() => incident.status === 'resolved', msUntil(fixBy));
    if (!fixed) {
      incident.fixBreached = true;
      addStep('fix-breached', 'system');
    }
  }

  function addStep(step: string, actor: string, note?: string | null): number {
    incident.steps.push({ seq: incident.steps.length + 1, step, actor, note: note ?? null, at: new Date().toISOString() });
    return saver.changed();
  }

  function allowStep({ actor }: StepRequest, step: string, from: IncidentStatus[]) {
    if (actor.role === 'venue') {
      throw ApplicationFailure.nonRetryable(`a venue may not ${step} an incident`, 'Forbidden');
    }
    if (!from.includes(incident.status)) {
      throw ApplicationFailure.nonRetryable(`cannot ${step} an incident that is ${incident.status}`, 'InvalidTransition');
    }
  }
}

function msUntil(deadline: Date): number {
  return Math.max(1, deadline.getTime() - Date.now());
}

/**
 * Keeps the database projection in step with the workflow: one save at a time, newest state
 * wins, and a burst of changes (a flapping charger) coalesces into a few writes.
 */
class ProjectionSaver {
  private savedRevision = 0;
  private savedFaults = 0;
  private savedSteps = 0;
  private running = false;

  constructor(private readonly incident: Incident) {}

  /** Marks the incident changed and returns the revision that holds the change. */
  changed(): number {
    this.incident.revision += 1;
    if (!this.running) void this.run();
    return this.incident.revision;
  }

  /** Resolves once the given revision is in the database. */
  async saved(revision: number): Promise<void> {
    await condition(() => this.savedRevision >= revision);
  }

  async drain(): Promise<void> {
    await this.saved(this.incident.revision);
  }

  private async run() {
    this.running = true;
    while (this.savedRevision < this.incident.revision) {
      const { faults, steps, ...row } = this.incident;
      const faultCount = faults.length;
      const stepCount = steps.length;
      await projection.saveIncident({
        incident: row,
        newFaults: faults.slice(this.savedFaults, faultCount),
        newSteps: steps.slice(this.savedSteps, stepCount),
      });
      this.savedRevision = row.revision;
      this.savedFaults = faultCount;
      this.savedSteps = stepCount;
    }
    this.running = false;
  }
}
