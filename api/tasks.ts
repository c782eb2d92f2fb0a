import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Selectable } from 'kysely';
import type { TasksTable } from '../db/schema.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { HUMAN_STEPS } from '../contracts/incident-steps.js';
import { StepHeaders, takeStep } from './incidents.js';
import { notFound, optionalBody, problemResponses } from './problem.js';
import { scoped } from './scope.js';
import { text } from '../contracts/storable-text.js';

const TaskSchema = z
  .object({
    id: z.string(),
    incidentId: z.string(),
    kind: z.string(),
    status: z.enum(['open', 'claimed', 'done', 'cancelled']),
    chargerId: z.string(),
    connectorId: z.number().int(),
    priority: z.string().nullable(),
    site: z.object({ id: z.string(), name: z.string(), address: z.string() }).nullable(),
    dueAt: z.string().nullable().openapi({ description: 'when the fix clock breaches, as of the last change' }),
    assignee: z.object({ id: z.string(), name: z.string() }).nullable(),
    checklist: z.array(z.string()),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi('Task');

const TaskId = z.object({ id: text().min(1).max(100) });

const inbox = createRoute({
  method: 'get',
  path: '/',
  summary: 'The field crew’s inbox: my tasks, unassigned tasks, or done ones (soonest due first)',
  request: { query: z.object({ view: z.enum(['mine', 'unassigned', 'done']).default('mine'), limit: z.coerce.number().int().min(1).max(500).default(100) }) },
  responses: {
    200: { description: 'tasks', content: { 'application/json': { schema: z.object({ tasks: z.array(TaskSchema) }) } } },
    ...problemResponses(400, 401),
  },
});

/** Completing a task is the incident's fix step, with the same body; claiming and handing back take a note. */
const Fix = HUMAN_STEPS.fix.request;
const NoteOnly = HUMAN_STEPS.claim.request;

const action = (name: 'claim' | 'unclaim' | 'complete', summary: string) =>
  createRoute({
    method: 'post',
    path: `/{id}/${name}`,
    summary,
    request: { params: TaskId, headers: StepHeaders, body: { required: false, content: { 'application/json': { schema: name === 'complete' ? Fix : NoteOnly } } } },
    responses: {
      200: { description: 'the task after the action', content: { 'application/json': { schema: TaskSchema } } },
      ...problemResponses(400, 401, 403, 404, 409, 503),
    },
  });

/** Task actions are the incident's human steps: claim, unclaim, and complete (= fixed). */
const STEP_OF = { claim: 'claim', unclaim: 'unclaim', complete: 'fix' } as const;

export function taskRoutes({ db, temporal }: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>().openapi(inbox, async (c) => {
    const { view, limit } = c.req.valid('query');
    const actor = c.get('actor');
    let query = scoped(db.selectFrom('tasks').selectAll(), 'tasks', actor, c.get('scope')).limit(limit);
    if (view === 'mine') query = query.where('assigneeId', '=', actor.id).where('status', '=', 'claimed').orderBy('dueAt').orderBy('createdAt');
    if (view === 'unassigned') query = query.where('status', '=', 'open').orderBy('dueAt').orderBy('createdAt');
    if (view === 'done') {
      query = query.where('status', 'in', ['done', 'cancelled']).orderBy('completedAt', 'desc');
      if (actor.role === 'technician') query = query.where('assigneeId', '=', actor.id);
    }
    return c.json({ tasks: (await query.execute()).map(toView) }, 200);
  });

  for (const name of ['claim', 'unclaim', 'complete'] as const) {
    const summary = { claim: 'Claim a task: it becomes yours and the incident accepted', unclaim: 'Hand a task back to the unassigned pile', complete: 'Complete a task: the fix, with parts, checklist answers and photos' }[name];
    app.openapi(action(name, summary), async (c) => {
      const { id } = c.req.valid('param');
      const task = await scoped(db.selectFrom('tasks').select(['incidentId']), 'tasks', c.get('actor'), c.get('scope')).where('id', '=', id).executeTakeFirst();
      if (!task) throw notFound('task');
      const request = await optionalBody(c, name === 'complete' ? Fix : NoteOnly);
      await takeStep(db, temporal, task.incidentId, STEP_OF[name], { ...request, actor: c.get('actor') }, c.get('scope'), c.req.valid('header')['idempotency-key']);
      const after = await db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return c.json(toView(after), 200);
    });
  }
  return app;
}

function toView(task: Selectable<TasksTable>) {
  const detail = task.detail as { checklist?: string[]; site?: { id: string; name: string; address: string } | null; priority?: string };
  return {
    id: task.id,
    incidentId: task.incidentId,
    kind: task.kind,
    status: task.status,
    chargerId: task.chargerId,
    connectorId: task.connectorId,
    priority: detail.priority ?? null,
    site: detail.site ?? null,
    dueAt: task.dueAt?.toISOString() ?? null,
    assignee: task.assigneeId ? { id: task.assigneeId, name: task.assigneeName ?? task.assigneeId } : null,
    checklist: detail.checklist ?? [],
    createdAt: task.createdAt.toISOString(),
    completedAt: task.completedAt?.toISOString() ?? null,
  };
}
