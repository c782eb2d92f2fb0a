import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { ApiDeps, ApiEnv } from './env.js';
import { HUMAN_STEPS } from '../contracts/incident-steps.js';
import { StepHeaders, takeStep } from './incidents.js';
import { notFound, optionalBody, problemResponses } from './problem.js';
import { scoped } from './scope.js';
import { TaskSchema, toView } from './task-view.js';
import { text } from '../contracts/storable-text.js';


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
