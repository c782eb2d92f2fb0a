import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { HumanStepName } from '../../contracts/incident-steps.js';
import type { ChargerReport, FaultReport, FaultTerms, Incident, StepRequestOf } from '../../contracts/incident.js';

/** What reaches a running incident from outside: the charger's faults and reports, people's steps, and the query of its state. */

/**
 * A fault on the connector (the outbox relay; a report made in the API), with the terms it would
 * open an incident under (absent from senders before priority raises).
 */
export const faultReported = defineSignal<[FaultReport, FaultTerms?]>('faultReported');
/** The charger's other news about the connector: statuses, reconnects, completed sessions. */
export const chargerReported = defineSignal<[ChargerReport]>('chargerReported');

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
