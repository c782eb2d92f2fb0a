import type { Client } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { storePhoto } from '../api/attachments.js';
import { loadIncident } from '../api/incidents.js';
import { toProblem } from '../api/problem.js';
import { scoped } from '../api/scope.js';
import { toView } from '../api/task-view.js';
import type { Db } from '../db/connect.js';
import { notFoundPage, page, siteTime } from './layout.js';
import { stepForm, termsOf } from './incidents.js';
import type { ConsoleEnv } from './sessions.js';
import { afterForm, fileFields, formStatus, stepFromForm, stepsOpenTo, textField, type FormFields } from './steps.js';

type TaskView = ReturnType<typeof toView>;

const FIELD_STEPS = ['accept', 'arrive', 'diagnose', 'unclaim'] as const;

/**
 * The field crew's pages, phone first: my tasks and the unassigned ones (soonest due first), and a
 * task's page with where to go, what is wrong, and the steps in the order they are taken — claim,
 * accept, on site, diagnose, the checklist with parts and photos from the camera, fixed.
 */
export function taskPages({ db, temporal, attachmentsDir }: { db: Db; temporal: Client; attachmentsDir: string }) {
  const taskOf = (c: Context<ConsoleEnv>, id: string) => scoped(db.selectFrom('tasks').selectAll(), 'tasks', c.get('actor'), c.get('scope')).where('id', '=', id).executeTakeFirst();

  return new Hono<ConsoleEnv>()
    .get('/tasks', async (c) => {
      const actor = c.get('actor');
      if (actor.role === 'venue') return notFoundPage(c);
      const base = scoped(db.selectFrom('tasks').selectAll(), 'tasks', actor, c.get('scope')).orderBy('dueAt').orderBy('createdAt').limit(200);
      const [mine, open] = await Promise.all([base.where('assigneeId', '=', actor.id).where('status', '=', 'claimed').execute(), base.where('status', '=', 'open').execute()]);
      const zones = await zonesOf(db, [...mine, ...open].map((t) => t.incidentId));
      const list = (tasks: TaskView[], empty: string) =>
        tasks.length === 0
          ? html`<p>${empty}</p>`
          : html`<ul class="tasks">${tasks.map(
              (t) => html`<li><a class="task" href="/console/tasks/${t.id}"><span class="badge ${t.priority ?? ''}">${t.priority ?? '—'}</span> <strong>${t.site?.name ?? t.chargerId}</strong><br>${t.chargerId} · connector ${t.connectorId}<br><small>due ${siteTime(t.dueAt, zones.get(t.incidentId) ?? null)}</small></a></li>`,
            )}</ul>`;
      return c.html(
        page(
          { title: 'Tasks', actor, csrf: c.get('csrf') },
          html`<h1>Tasks</h1>
            <h2>Mine</h2>${list(mine.map(toView), 'Nothing assigned to you.')}
            <h2>Unassigned</h2>${list(open.map(toView), 'No unassigned task.')}`,
        ),
      );
    })
    .get('/tasks/:id', (c) => taskPage(c, null))
    .post('/tasks/:id/claim', async (c) => {
      const task = await taskOf(c, c.req.param('id'));
      if (!task) return notFoundPage(c);
      const refusal = await stepFromForm(db, temporal, c, task.incidentId, 'claim', {});
      return afterForm(c, refusal, `/console/tasks/${task.id}`, (r) => taskPage(c, r));
    })
    .post('/tasks/:id/fix', async (c) => {
      const task = await taskOf(c, c.req.param('id'));
      if (!task) return notFoundPage(c);
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const checklist = Object.fromEntries(toView(task).checklist.map((item, i) => [item, textField(form, `check-${i}`) === 'yes']));
      const partsUsed = (textField(form, 'partsUsed') ?? '').split('\n').map((p) => p.trim()).filter(Boolean);
      let refusal: string | null = null;
      const photoIds: string[] = [];
      try {
        for (const photo of fileFields(form, 'photos')) photoIds.push((await storePhoto(db, attachmentsDir, task.incidentId, photo, c.get('actor').name)).id);
      } catch (error) {
        refusal = toProblem(error, c.req.path).detail;
      }
      const note = textField(form, 'note');
      refusal ??= await stepFromForm(db, temporal, c, task.incidentId, 'fix', { checklist, ...(partsUsed.length ? { partsUsed } : {}), ...(photoIds.length ? { photoIds } : {}), ...(note ? { note } : {}) });
      return afterForm(c, refusal, `/console/tasks/${task.id}`, (r) => taskPage(c, r));
    });

  /** A task's page: where, what, and the steps open to the viewer now. */
  async function taskPage(c: Context<ConsoleEnv>, refusal: string | null) {
    const row = await taskOf(c, c.req.param('id')!);
    const incident = row && (await loadIncident(db, row.incidentId, c.get('actor'), c.get('scope')));
    if (!row || !incident) return notFoundPage(c);
    const task = toView(row);
    const actor = c.get('actor');
    const zone = incident.site?.timeZone ?? null;
    const terms = await termsOf(db, incident.id);
    const back = `/console/tasks/${task.id}`;
    const mine = task.status === 'claimed' && task.assignee?.id === actor.id;
    const steps = mine ? stepsOpenTo(actor.role, incident.status, FIELD_STEPS) : [];
    const canFix = mine && stepsOpenTo(actor.role, incident.status, ['fix']).length > 0;
    const csrf = c.get('csrf');
    const address = task.site?.address ?? incident.site?.address ?? null;
    const body = html`<p><a href="/console/tasks">← Tasks</a></p>
      <h1><span class="badge ${incident.priority}">${incident.priority}</span> ${task.site?.name ?? incident.chargerId}</h1>
      <dl class="facts">
        <dt>Where</dt><dd>${address ?? '—'}${address ? html`<br><a href="https://www.openstreetmap.org/search?query=${encodeURIComponent(address)}" rel="noopener noreferrer" target="_blank">Open in maps</a>` : ''}</dd>
        <dt>Charger</dt><dd>${incident.chargerId} · connector ${incident.connectorId}</dd>
        <dt>What is wrong</dt><dd>${incident.faults.length ? incident.faults.map((f) => html`${f.errorCode}${f.info ? html` <small>(${f.info})</small>` : ''} · ${siteTime(f.at, zone)}<br>`) : (incident.report?.description ?? incident.source)}</dd>
        <dt>Due</dt><dd>${siteTime(task.dueAt, zone)}</dd>
        <dt>Task</dt><dd>${task.status}${task.assignee ? html` · ${task.assignee.name}` : ''} · incident ${incident.status}</dd>
      </dl>
      ${refusal ? formStatus(refusal) : ''}
      ${task.status === 'open' && actor.role === 'technician'
        ? html`<form method="post" action="/console/tasks/${task.id}/claim" hx-post="/console/tasks/${task.id}/claim" hx-target="find .form-status">
            <input type="hidden" name="_csrf" value="${csrf}">${formStatus()}<button type="submit" class="big">Claim this task</button></form>`
        : ''}
      ${steps.filter((s) => s !== 'unclaim').map((name) => stepForm(incident.id, name, { terms, technicians: [], csrf, refused: null, back }))}
      ${canFix ? fixForm(task, csrf) : ''}
      ${steps.includes('unclaim') ? stepForm(incident.id, 'unclaim', { terms, technicians: [], csrf, refused: null, back }) : ''}`;
    return c.html(page({ title: `Task at ${task.site?.name ?? task.chargerId}`, actor, csrf }, body), refusal ? 400 : 200);
  }
}

/** The fix: every checklist item answered, parts used, photos straight from the camera, a note. */
function fixForm(task: TaskView, csrf: string) {
  const action = `/console/tasks/${task.id}/fix`;
  return html`<form class="step" method="post" action="${action}" enctype="multipart/form-data" hx-post="${action}" hx-encoding="multipart/form-data" hx-target="find .form-status">
    <h2>Fixed</h2>
    <fieldset>
      <legend>Checklist</legend>
      ${task.checklist.map((item, i) => html`<label class="check"><input type="checkbox" name="check-${i}" value="yes"> ${item}</label>`)}
    </fieldset>
    <label>Parts used <small>(one per line)</small> <textarea name="partsUsed" maxlength="10000"></textarea></label>
    <label>Photos <input type="file" name="photos" accept="image/jpeg,image/png,image/webp,image/heic" capture="environment" multiple></label>
    <label>Note <textarea name="note" maxlength="2000"></textarea></label>
    <input type="hidden" name="_csrf" value="${csrf}">
    ${formStatus()}
    <button type="submit" class="big">Fixed</button>
  </form>`;
}

/** Each incident's site time zone, for due times. */
async function zonesOf(db: Db, incidentIds: string[]): Promise<Map<string, string | null>> {
  if (incidentIds.length === 0) return new Map();
  const rows = await db.selectFrom('incidents').select(['id', 'state']).where('id', 'in', incidentIds).execute();
  return new Map(rows.map((r) => [r.id, (r.state as { site?: { timeZone?: string } | null } | null)?.site?.timeZone ?? null]));
}
