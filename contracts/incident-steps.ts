import { z } from 'zod';
import { ACTIVE_STATUSES, ROOT_CAUSES, type IncidentStatus } from './incident.js';
import { DESK, FIELD, STAFF, type ActorRole } from './roles.js';
import { PAUSE_REASONS } from './sla-clock.js';
import { text } from './storable-text.js';

/**
 * The steps people take on an incident, in one table: who may take each, in which states, what
 * they send with it, and what it records on the timeline. The incident workflow's validators, the
 * API's routes (and their OpenAPI document) and the console read this table; the workflow adds
 * only what depends on the incident itself (a technician who is not the assignee, a pause reason
 * the agreement does not allow, clocks already paused).
 */
export interface HumanStep {
  /** Who may take it. */
  roles: readonly ActorRole[];
  /** The incident statuses it may be taken in. */
  from: readonly IncidentStatus[];
  /** The timeline entry it records. */
  records: string;
  /** What it does, in a line (the API document's summary, the console's button help). */
  summary: string;
  /** What a person sends with it: the API's body, checked again by the workflow. */
  request: z.ZodObject;
}

const Note = text().max(2000).optional();

/**
 * A reason: no U+0000 (like all free text) and some character that String.prototype.trim keeps.
 * One pattern, since the API document carries one per string; the white space is spelled out
 * rather than `\s`, which other regex engines (a client's validator) read differently.
 */
// eslint-disable-next-line no-control-regex -- U+0000 is part of what the pattern states
const REASON = /^[^\u0000]*[^\u0000\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff][^\u0000]*$/;

const WORKED_OR_VERIFYING: readonly IncidentStatus[] = [...ACTIVE_STATUSES, 'verifying'];

/** A step as written below: its request schema built by a function, on first use (see HUMAN_STEPS). */
type StepDefinition = Omit<HumanStep, 'request'> & { request: () => z.ZodObject };

const STEPS = {
  acknowledge: {
    roles: STAFF,
    from: ACTIVE_STATUSES,
    records: 'acknowledged',
    summary: 'Acknowledge: stops the response clock',
    request: () => z.object({ note: Note }),
  },
  assign: {
    roles: DESK,
    from: ACTIVE_STATUSES,
    records: 'assigned',
    summary: 'Assign (dispatch) to a technician',
    request: () => z.object({ note: Note, technician: z.object({ id: text().min(1).max(200), name: text().min(1).max(200) }) }),
  },
  claim: {
    roles: FIELD,
    from: ACTIVE_STATUSES,
    records: 'claimed',
    summary: 'A technician takes the incident’s task',
    request: () => z.object({ note: Note }),
  },
  unclaim: {
    roles: STAFF,
    from: ['dispatched', 'accepted'],
    records: 'unclaimed',
    summary: 'Hand the task back',
    request: () => z.object({ note: Note }),
  },
  accept: {
    roles: FIELD,
    from: ['dispatched'],
    records: 'accepted',
    summary: 'The assigned technician accepts',
    request: () => z.object({ note: Note }),
  },
  arrive: {
    roles: FIELD,
    from: ['dispatched', 'accepted'],
    records: 'arrived',
    summary: 'The technician is on site',
    request: () => z.object({ note: Note }),
  },
  diagnose: {
    roles: STAFF,
    from: WORKED_OR_VERIFYING,
    records: 'diagnosed',
    summary: 'Record the root cause, with evidence',
    request: () => z.object({ note: Note, rootCause: z.enum(ROOT_CAUSES), evidence: text().max(2000).optional() }),
  },
  fix: {
    roles: STAFF,
    from: ['acknowledged', 'opened', 'dispatched', 'accepted', 'on-site'],
    records: 'fixed',
    summary: 'Fixed: verification starts once the connector reports healthy (the fix clock stops then)',
    request: () => z.object({
      note: Note,
      partsUsed: z.array(text().min(1).max(200)).max(50).optional(),
      checklist: z
        .record(text().max(500), z.union([z.boolean(), text().max(500)]))
        .optional()
        .meta({ description: "the agreement's checklist, every item answered (true/false or text); required when a technician fixes" }),
      photoIds: z.array(z.uuid()).max(20).optional().meta({ description: 'photos uploaded to the incident (POST /api/incidents/{id}/photos)' }),
      // Photos are referenced by upload id only: the API turns photoIds into what it knows of each
      // upload. Described ones are refused with that hint (an empty list says nothing, and passes).
      photos: z
        .array(z.unknown())
        .max(0, 'photos are referenced by upload id: upload each one (POST /api/incidents/{id}/photos) and send the ids as photoIds')
        .optional()
        .meta({ description: 'not accepted: upload the photos and send their ids as photoIds' }),
    }),
  },
  pause: {
    roles: STAFF,
    from: ACTIVE_STATUSES,
    records: 'paused',
    summary: 'Pause the SLA clocks (for a reason the agreement allows)',
    request: () => z.object({ note: Note, reason: z.enum(PAUSE_REASONS) }),
  },
  resume: {
    roles: STAFF,
    from: ACTIVE_STATUSES,
    records: 'resumed',
    summary: 'Resume the SLA clocks',
    request: () => z.object({ note: Note }),
  },
  cancel: {
    roles: DESK,
    from: WORKED_OR_VERIFYING,
    records: 'cancelled',
    summary: 'Cancel (e.g. false alarm)',
    request: () => z.object({ note: Note, reason: z.string().min(1).max(500).regex(REASON, 'a cancellation needs a reason, without U+0000') }),
  },
  resolve: {
    roles: DESK,
    from: WORKED_OR_VERIFYING,
    records: 'resolved',
    summary: 'Close now, without waiting for verification',
    request: () => z.object({ note: Note }),
  },
} as const satisfies Record<string, StepDefinition>;

/**
 * The steps, each request schema built the first time it is read. Every incident workflow loads
 * this table and reads a schema only when a person takes that step; built up front for every new
 * workflow, the schemas held 184 of a cached incident's 861 KB (zod 4 gives each schema its own
 * closures; docs/benchmarks.md, "The fault storm").
 */
export const HUMAN_STEPS = builtOnFirstUse(STEPS);

function builtOnFirstUse<T extends Record<string, StepDefinition>>(steps: T): { [K in keyof T]: Omit<T[K], 'request'> & { readonly request: ReturnType<T[K]['request']> } } {
  return Object.fromEntries(
    Object.entries(steps).map(([name, { request, ...step }]) => {
      let built: z.ZodObject | undefined;
      return [name, Object.defineProperty({ ...step }, 'request', { get: () => (built ??= request()), enumerable: true })];
    }),
  ) as never;
}

export type HumanStepName = keyof typeof HUMAN_STEPS;
export const HUMAN_STEP_NAMES = Object.keys(HUMAN_STEPS) as HumanStepName[];

/** What a person sends with a step (the API body). */
export type StepBody<N extends HumanStepName> = z.infer<(typeof HUMAN_STEPS)[N]['request']>;
