import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Selectable } from 'kysely';
import { CHARGER_ID } from '../contracts/agreement.js';
import { HUMAN_STEP_NAMES, HUMAN_STEPS, type HumanStepName } from '../contracts/incident-steps.js';
import { CLOSED_STATUSES, INCIDENT_STATUSES, type Actor, type Incident, type Photo as PhotoFacts, type StepRequest } from '../contracts/incident.js';
import { clockState } from '../contracts/sla-clock.js';
import { readConsistently, type Db } from '../db/connect.js';
import type { IncidentsTable, TokenScope } from '../db/schema.js';
import { incidentInputFor } from '../workflow-clients/incident-input.js';
import { openOrJoinIncident } from '../workflow-clients/incidents.js';
import { incidentQuery, stepUpdates } from '../workflows/incident/messages.js';
import { photosOf } from './attachments.js';
import { TaskSchema, toView as toTaskView } from './task-view.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { conflict, forbidden, notFound, optionalBody, Problem, problemResponses } from './problem.js';
import { chargerInScope, scoped } from './scope.js';
import { storableText, text } from '../contracts/storable-text.js';

const IncidentStatus = z.enum(INCIDENT_STATUSES);

const ClockSchema = z
  .object({
    cycle: z.number().int(),
    startedAt: z.string(),
    running: z.boolean(),
    paused: z.boolean(),
    pauseReason: z.string().nullable(),
    stopped: z.boolean(),
    cancelled: z.boolean(),
    targetMs: z.number(),
    elapsedWallMs: z.number(),
    elapsedBusinessMs: z.number(),
    pausedBusinessMs: z.number(),
    remainingMs: z.number(),
    percent: z.number(),
    breachAt: z.string().nullable(),
    breached: z.boolean().openapi({ description: 'the current (last) cycle breached' }),
    everBreached: z.boolean(),
  })
  .openapi('SlaClock');

const TimelineEntry = z
  .object({
    at: z.string(),
    kind: z.enum(['fault', 'step']),
    what: z.string().openapi({ description: 'the fault code, or the step: acknowledged, paused, remote-fix-attempt, escalated, escalation-failed, charger-status, …' }),
    actor: z.string().nullable(),
    note: z.string().nullable(),
    data: z.unknown(),
  })
  .openapi('TimelineEntry');

const Person = z.object({ id: z.string(), name: z.string() });

const IncidentSchema = z
  .object({
    id: z.string(),
    chargerId: z.string(),
    connectorId: z.number().int(),
    status: IncidentStatus,
    priority: z.string(),
    source: z.string(),
    agreement: z.object({ id: z.string(), version: z.number().int(), faultClass: z.string().nullable() }).nullable(),
    site: z.object({ id: z.string(), name: z.string(), address: z.string(), timeZone: z.string().optional() }).nullable(),
    openedAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
    outcome: z.string().nullable(),
    assignee: Person.nullable(),
    rootCause: z.object({ cause: z.string(), evidence: z.string().nullable() }).nullable(),
    verification: z
      .object({ startedAt: z.string(), endsAt: z.string() })
      .nullable()
      .meta({ description: 'verifying: the connector must stay healthy until endsAt (or complete a session)' }),
    awaitingHealthy: z
      .object({ since: z.string(), until: z.string() })
      .nullable()
      .meta({ description: 'fixed, but the connector has not reported healthy since: verification starts when it does; at `until` the fix has not taken' }),
    report: z.object({ description: z.string(), reporter: z.object({ name: z.string(), contact: z.string().nullable() }) }).nullable(),
    faults: z.array(
      z.object({
        status: z.string(),
        errorCode: z.string(),
        vendorErrorCode: z.string().nullable(),
        info: z.string().nullable(),
        at: z.string().openapi({ description: 'when the charger says it happened' }),
        receivedAt: z.string().nullable().openapi({ description: 'when Concierge received it (null for reports made here)' }),
      }),
    ),
    sla: z.object({
      respondBy: z.string().nullable(),
      fixBy: z.string().nullable(),
      responseBreached: z.boolean(),
      fixBreached: z.boolean(),
      responseEverBreached: z.boolean(),
      fixEverBreached: z.boolean(),
      cycle: z.number().int(),
      response: ClockSchema.nullable(),
      fix: ClockSchema.nullable(),
    }),
    degraded: z
      .object({ since: z.string(), cause: z.string() })
      .nullable()
      .openapi({ description: 'set when the database refused this incident’s data as it was: its texts are stored with unstorable characters replaced (U+FFFD); operators are alerted' }),
    steps: z.array(z.object({ seq: z.number().int(), step: z.string(), actor: z.string(), actorRole: z.string().nullable(), note: z.string().nullable(), data: z.unknown(), at: z.string() })),
    timeline: z.array(TimelineEntry),
    tasks: z.array(TaskSchema).meta({ description: "the incident's field-crew tasks, oldest first" }),
  })
  .openapi('Incident');

export type IncidentView = z.infer<typeof IncidentSchema>;

const IncidentId = z.object({ id: z.uuid() });

/**
 * A step sent again with the same key (a retry after a lost answer) is taken once: the second
 * request gets the first one's outcome. The key is the Temporal update id, within the caller's own
 * keys, so two callers' keys never meet.
 */
export const StepHeaders = z.object({
  'idempotency-key': text()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'any unique text (a UUID) the client keeps for this step and sends again with every retry of it: the step is taken once' }),
});
/** Each human step's route takes the step table's request as its body (contracts/incident-steps.ts). */
export type StepName = HumanStepName;

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'Incidents you may see, newest first',
  request: {
    query: z.object({
      chargerId: text().max(100).optional(),
      status: IncidentStatus.optional(),
      open: z.enum(['true', 'false']).optional().openapi({ description: 'true: only incidents not yet resolved or cancelled' }),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
  },
  responses: {
    200: { description: 'incidents', content: { 'application/json': { schema: z.object({ incidents: z.array(IncidentSchema) }) } } },
    ...problemResponses(400, 401),
  },
});

const show = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One incident: SLA clocks now, tasks, and the full timeline',
  request: { params: IncidentId },
  responses: {
    200: { description: 'the incident', content: { 'application/json': { schema: IncidentSchema } } },
    ...problemResponses(400, 401, 404),
  },
});

const report = createRoute({
  method: 'post',
  path: '/',
  summary: 'Report a problem by hand: a driver’s hotline call or a maintenance finding',
  description: 'Opens the connector’s incident, or adds the report to the one already open.',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              chargerId: z.string().regex(CHARGER_ID.pattern, CHARGER_ID.rule),
              connectorId: z.number().int().min(0).max(16),
              source: z.enum(['driver-report', 'maintenance-finding']).default('driver-report'),
              description: text().min(3).max(2000),
              reporter: z.object({ name: text().min(1).max(200), contact: text().max(200).nullable().default(null) }),
            })
            .openapi('ProblemReport'),
        },
      },
    },
  },
  responses: {
    202: { description: 'reported; the incident id', content: { 'application/json': { schema: z.object({ incidentId: z.string(), workflowId: z.string() }) } } },
    ...problemResponses(400, 401, 403, 404, 503),
  },
});

export function incidentRoutes({ db, temporal, taskQueue, incidentSla }: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>()
    .openapi(list, async (c) => {
      const { chargerId, status, open, limit } = c.req.valid('query');
      let query = scoped(db.selectFrom('incidents').selectAll(), 'incidents', c.get('actor'), c.get('scope')).orderBy('openedAt', 'desc').orderBy('id').limit(limit);
      if (chargerId) query = query.where('chargerId', '=', chargerId);
      if (status) query = query.where('status', '=', status);
      if (open === 'true') query = query.where('status', 'not in', CLOSED_STATUSES);
      if (open === 'false') query = query.where('status', 'in', CLOSED_STATUSES);
      return c.json({ incidents: await readConsistently(db, async (snapshot) => withDetails(snapshot, (await snapshot.executeQuery(query)).rows)) }, 200);
    })
    .openapi(show, async (c) => {
      const incident = await loadIncident(db, c.req.valid('param').id, c.get('actor'), c.get('scope'));
      if (!incident) throw notFound('incident');
      return c.json(incident, 200);
    })
    .openapi(report, async (c) => {
      const body = c.req.valid('json');
      const actor = c.get('actor');
      if (actor.role === 'venue') throw forbidden('a venue reports problems through its account manager or the driver hotline');
      const charger = await db.selectFrom('chargers').select('id').where('id', '=', body.chargerId).executeTakeFirst();
      if (!charger || !(await chargerInScope(db, body.chargerId, actor, c.get('scope')))) throw notFound('charger');
      const fault = {
        eventId: `report:${randomUUID()}`,
        status: 'Reported',
        errorCode: body.source === 'driver-report' ? 'DriverReport' : 'MaintenanceFinding',
        vendorErrorCode: null,
        info: storableText(body.description.slice(0, 500)),
        at: new Date().toISOString(),
      };
      const input = await incidentInputFor(
        db,
        { chargerId: body.chargerId, connectorId: body.connectorId, source: body.source, fault, defaultPriority: 'P3', report: { description: body.description, reporter: body.reporter } },
        incidentSla,
      );
      const handle = await openOrJoinIncident(db, temporal, taskQueue, input, fault);
      const incident = await handle.query(incidentQuery);
      return c.json({ incidentId: incident.id, workflowId: handle.workflowId }, 202);
    });

  for (const name of HUMAN_STEP_NAMES) {
    const { request: body, summary } = HUMAN_STEPS[name];
    const route = createRoute({
      method: 'post',
      path: `/{id}/${name}`,
      summary,
      // A body is required exactly when the step has a required field (assign, diagnose, pause, cancel).
      request: { params: IncidentId, headers: StepHeaders, body: { required: !body.safeParse({}).success, content: { 'application/json': { schema: body } } } },
      responses: {
        200: { description: 'the incident after the step', content: { 'application/json': { schema: IncidentSchema } } },
        ...problemResponses(400, 401, 403, 404, 409, 503),
      },
    });
    app.openapi(route, async (c) => {
      const { id } = c.req.valid('param');
      const request = await optionalBody(c, body);
      await takeStep(db, temporal, id, name, { ...request, actor: c.get('actor') }, c.get('scope'), c.req.valid('header')['idempotency-key']);
      return c.json((await loadIncident(db, id, c.get('actor'), c.get('scope')))!, 200);
    });
  }
  return app;
}

/**
 * Runs a human step on the incident's workflow run; a refused step becomes 403 (role), 409 (state)
 * or 400 (request). With an idempotency key, a repeated request is the same update, taken once.
 */
export async function takeStep(db: Db, temporal: Client, incidentId: string, name: StepName, stepRequest: StepRequest & { photoIds?: string[] }, scope: TokenScope | null, idempotencyKey?: string): Promise<void> {
  const row = await scoped(db.selectFrom('incidents').select(['workflowId', 'status']), 'incidents', stepRequest.actor, scope).where('id', '=', incidentId).executeTakeFirst();
  if (!row) throw notFound('incident');
  // Uploaded photos travel to the workflow as their facts (id, name, type, size), not their bytes;
  // the body names them by upload id only.
  const { photoIds, ...fields } = stepRequest as StepRequest & { photoIds?: string[] };
  const request: StepRequest & { incidentId: string; photos?: PhotoFacts[] } = { ...fields, incidentId };
  if (photoIds?.length) request.photos = await photosOf(db, incidentId, photoIds);
  const update = stepUpdates[name] as UpdateDefinition<Incident, [StepRequest]>;
  try {
    // The workflow's current run, not the run id in the projection: after continue-as-new that id
    // is the previous run's until the new run first saves. The request names the incident, which
    // the workflow checks.
    const updateId = idempotencyKey === undefined ? undefined : `${name}:${stepRequest.actor.id}:${idempotencyKey}`;
    await temporal.workflow.getHandle(row.workflowId).executeUpdate(update, { args: [request], ...(updateId ? { updateId } : {}) });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      if (error.cause.type === 'Forbidden') throw forbidden(error.cause.message);
      if (error.cause.type === 'InvalidTransition') throw conflict(error.cause.message);
      if (error.cause.type === 'InvalidRequest') throw new Problem(400, 'Bad Request', error.cause.message);
    }
    if (error instanceof WorkflowNotFoundError) throw conflict(`cannot ${name} an incident that is ${row.status} and closed`);
    throw error;
  }
}

/** The incident with its faults and steps, read from one snapshot. */
export function loadIncident(db: Db, id: string, actor: Actor, scope: TokenScope | null): Promise<IncidentView | null> {
  return readConsistently(db, async (snapshot) => {
    const row = await scoped(snapshot.selectFrom('incidents').selectAll(), 'incidents', actor, scope).where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const [incident] = await withDetails(snapshot, [row]);
    return incident!;
  });
}

type IncidentRow = Selectable<IncidentsTable>;

/** Attaches faults, steps and the live clock state to incident rows with one query each, not one per incident; read them from the rows' snapshot (`readConsistently`). */
async function withDetails(db: Db, rows: IncidentRow[]): Promise<IncidentView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [faults, stepRows, taskRows] = await Promise.all([
    db.selectFrom('incidentFaults').selectAll().where('incidentId', 'in', ids).orderBy('at').orderBy('eventId').execute(),
    db.selectFrom('incidentSteps').selectAll().where('incidentId', 'in', ids).orderBy('seq').execute(),
    db.selectFrom('tasks').selectAll().where('incidentId', 'in', ids).orderBy('createdAt').orderBy('id').execute(),
  ]);
  const now = new Date();
  return rows.map((row) => {
    const state = row.state as Omit<Incident, 'faults' | 'steps'> | null;
    const clock = (name: 'response' | 'fix') => {
      if (!state) return null;
      const c = state.clocks[name];
      return { ...clockState(c, now), startedAt: c.cycles.at(-1)!.startedAt };
    };
    const myFaults = faults
      .filter((f) => f.incidentId === row.id)
      .map((f) => ({ status: f.status, errorCode: f.errorCode, vendorErrorCode: f.vendorErrorCode, info: f.info, at: f.at.toISOString(), receivedAt: f.receivedAt?.toISOString() ?? null }));
    const mySteps = stepRows
      .filter((s) => s.incidentId === row.id)
      .map((s) => ({ seq: s.seq, step: s.step, actor: s.actor, actorRole: s.actorRole, note: s.note, data: s.data ?? null, at: s.at.toISOString() }));
    const timeline = [
      ...myFaults.map((f) => ({ at: f.at, kind: 'fault' as const, what: f.errorCode, actor: null, note: f.info, data: { status: f.status, vendorErrorCode: f.vendorErrorCode } })),
      ...mySteps.map((s) => ({ at: s.at, kind: 'step' as const, what: s.step, actor: s.actor, note: s.note, data: s.data })),
    ].sort((a, b) => a.at.localeCompare(b.at));
    return {
      id: row.id,
      chargerId: row.chargerId,
      connectorId: row.connectorId,
      status: IncidentStatus.parse(row.status),
      priority: row.priority,
      source: row.source,
      agreement: row.agreementId && row.agreementVersion ? { id: row.agreementId, version: row.agreementVersion, faultClass: state?.agreement?.faultClass ?? null } : null,
      site: state?.site ?? null,
      openedAt: row.openedAt.toISOString(),
      acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
      resolvedAt: state?.resolvedAt ?? (row.status === 'resolved' ? (row.resolvedAt?.toISOString() ?? null) : null),
      cancelledAt: state?.cancelledAt ?? null,
      outcome: state?.outcome ?? null,
      assignee: state?.assignee ?? null,
      rootCause: state?.rootCause ?? null,
      verification: state?.verification ?? null,
      awaitingHealthy: state?.awaitingHealthy ? { since: state.awaitingHealthy.since, until: state.awaitingHealthy.until } : null,
      report: state?.report ?? null,
      faults: myFaults,
      sla: {
        respondBy: row.respondBy?.toISOString() ?? null,
        fixBy: row.fixBy?.toISOString() ?? null,
        responseBreached: row.responseBreached,
        fixBreached: row.fixBreached,
        responseEverBreached: row.responseEverBreached,
        fixEverBreached: row.fixEverBreached,
        cycle: row.cycle,
        response: clock('response'),
        fix: clock('fix'),
      },
      degraded: row.degradedSince ? { since: row.degradedSince.toISOString(), cause: row.degradedCause ?? '' } : null,
      steps: mySteps,
      timeline,
      tasks: taskRows.filter((t) => t.incidentId === row.id).map(toTaskView),
    };
  });
}
