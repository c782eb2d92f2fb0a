import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Selectable } from 'kysely';
import type { Db } from '../db/connect.js';
import type { IncidentsTable } from '../db/schema.js';
import type { StepRequest } from '../contracts/incident.js';
import { acknowledge, resolve } from '../workflows/incident.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { conflict, forbidden, notFound, Problem, problemResponses } from './problem.js';

const IncidentStatus = z.enum(['opened', 'acknowledged', 'resolved']);

const FaultSchema = z.object({
  status: z.string(),
  errorCode: z.string(),
  vendorErrorCode: z.string().nullable(),
  info: z.string().nullable(),
  at: z.string(),
});

const StepSchema = z.object({ seq: z.number().int(), step: z.string(), actor: z.string(), note: z.string().nullable(), at: z.string() });

const IncidentSchema = z
  .object({
    id: z.string(),
    chargerId: z.string(),
    connectorId: z.number().int(),
    status: IncidentStatus,
    priority: z.string(),
    agreement: z.object({ id: z.string(), version: z.number().int() }).nullable(),
    openedAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    faults: z.array(FaultSchema),
    sla: z.object({ respondBy: z.string().nullable(), fixBy: z.string().nullable(), responseBreached: z.boolean(), fixBreached: z.boolean() }),
    steps: z.array(StepSchema),
  })
  .openapi('Incident');

type IncidentView = z.infer<typeof IncidentSchema>;

const IncidentId = z.object({ id: z.uuid() });
const StepBody = z.object({ note: z.string().max(2000).optional() }).openapi('StepNote');

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'Incidents, newest first',
  request: {
    query: z.object({
      chargerId: z.string().optional(),
      status: IncidentStatus.optional(),
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
  summary: 'One incident with its faults, SLA clocks and steps',
  request: { params: IncidentId },
  responses: {
    200: { description: 'the incident', content: { 'application/json': { schema: IncidentSchema } } },
    ...problemResponses(400, 401, 404),
  },
});

const step = (name: 'acknowledge' | 'resolve', summary: string) =>
  createRoute({
    method: 'post',
    path: `/{id}/${name}`,
    summary,
    request: { params: IncidentId, body: { required: false, content: { 'application/json': { schema: StepBody } } } },
    responses: {
      200: { description: 'the incident after the step', content: { 'application/json': { schema: IncidentSchema } } },
      ...problemResponses(400, 401, 403, 404, 409),
    },
  });

export function incidentRoutes({ db, temporal }: ApiDeps) {
  const steps = { acknowledge, resolve };

  const app = new OpenAPIHono<ApiEnv>()
    .openapi(list, async (c) => {
      const { chargerId, status, limit } = c.req.valid('query');
      let query = db.selectFrom('incidents').selectAll().orderBy('openedAt', 'desc').orderBy('id').limit(limit);
      if (chargerId) query = query.where('chargerId', '=', chargerId);
      if (status) query = query.where('status', '=', status);
      return c.json({ incidents: await withDetails(db, await query.execute()) }, 200);
    })
    .openapi(show, async (c) => {
      const incident = await loadIncident(db, c.req.valid('param').id);
      if (!incident) throw notFound('incident');
      return c.json(incident, 200);
    });

  for (const name of ['acknowledge', 'resolve'] as const) {
    app.openapi(step(name, name === 'acknowledge' ? 'Acknowledge: stops the response clock' : 'Resolve: stops the fix clock'), async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      const row = await db.selectFrom('incidents').select(['workflowId', 'runId', 'status']).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('incident');
      const request: StepRequest = { actor: c.get('actor'), note: body.note ?? null };
      try {
        await temporal.workflow.getHandle(row.workflowId, row.runId).executeUpdate(steps[name], { args: [request] });
      } catch (error) {
        throw stepRefused(error, name, row.status);
      }
      return c.json((await loadIncident(db, id))!, 200);
    });
  }
  return app;
}

/** A refused step becomes 403 (role) or 409 (state), with the workflow's reason. */
function stepRefused(error: unknown, step: string, status: string): Problem | unknown {
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    if (error.cause.type === 'Forbidden') return forbidden(error.cause.message);
    if (error.cause.type === 'InvalidTransition') return conflict(error.cause.message);
  }
  if (error instanceof WorkflowNotFoundError) return conflict(`cannot ${step} an incident that is ${status} and closed`);
  return error;
}

async function loadIncident(db: Db, id: string): Promise<IncidentView | null> {
  const row = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const [incident] = await withDetails(db, [row]);
  return incident!;
}

type IncidentRow = Selectable<IncidentsTable>;

/** Attaches faults and steps to incident rows with one query each, not one per incident. */
async function withDetails(db: Db, rows: IncidentRow[]): Promise<IncidentView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [faults, steps] = await Promise.all([
    db.selectFrom('incidentFaults').selectAll().where('incidentId', 'in', ids).orderBy('at').orderBy('eventId').execute(),
    db.selectFrom('incidentSteps').selectAll().where('incidentId', 'in', ids).orderBy('seq').execute(),
  ]);
  return rows.map((row) => ({
    id: row.id,
    chargerId: row.chargerId,
    connectorId: row.connectorId,
    status: IncidentStatus.parse(row.status),
    priority: row.priority,
    agreement: row.agreementId && row.agreementVersion ? { id: row.agreementId, version: row.agreementVersion } : null,
    openedAt: row.openedAt.toISOString(),
    acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    faults: faults
      .filter((f) => f.incidentId === row.id)
      .map((f) => ({ status: f.status, errorCode: f.errorCode, vendorErrorCode: f.vendorErrorCode, info: f.info, at: f.at.toISOString() })),
    sla: { respondBy: row.respondBy?.toISOString() ?? null, fixBy: row.fixBy?.toISOString() ?? null, responseBreached: row.responseBreached, fixBreached: row.fixBreached },
    steps: steps
      .filter((s) => s.incidentId === row.id)
      .map((s) => ({ seq: s.seq, step: s.step, actor: s.actor, note: s.note, at: s.at.toISOString() })),
  }));
}
