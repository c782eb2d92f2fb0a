import type { Client } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import { sql } from 'kysely';
import { html } from 'hono/html';
import { readPhoto } from '../api/attachments.js';
import { loadIncident, type IncidentView } from '../api/incidents.js';
import { streamSSE } from 'hono/streaming';
import { scoped } from '../api/scope.js';
import { dueEscalations, describeTrigger } from '../contracts/escalation.js';
import { CLOSED_STATUSES, ROOT_CAUSES, type Incident } from '../contracts/incident.js';
import { HUMAN_STEP_NAMES, HUMAN_STEPS, type HumanStepName } from '../contracts/incident-steps.js';
import { clockState, type ClockState } from '../contracts/sla-clock.js';
import type { Db } from '../db/connect.js';
import { PRIORITIES } from '../contracts/faults.js';
import type { IncidentFeed } from './live.js';
import { duration, notFoundPage, page, siteTime } from './layout.js';
import type { ConsoleEnv } from './sessions.js';
import { afterForm, formStatus, stepFromForm, stepsOpenTo, textField, type FormFields } from './steps.js';

const BOARD_ROLES = ['account-manager', 'dispatcher', 'technician'];
const SORTS = { deadline: 'next deadline', opened: 'newest first', priority: 'priority' } as const;
type Sort = keyof typeof SORTS;

interface BoardFilters {
  priority: string | null;
  site: string | null;
  sort: Sort;
  /** From 1; PAGE_SIZE incidents a page. */
  page: number;
}

/** How long boards share one rendering of their rows (the countdowns move in minutes). */
const SHARED_ROWS_MS = 1000;

/** Incidents a board page shows: what a person can scan; the rest is a page away, in the same order. */
const PAGE_SIZE = 100;

/** A row of the board: an open incident and where its clocks stand now. */
interface BoardRow {
  id: string;
  priority: string;
  status: string;
  chargerId: string;
  connectorId: number;
  site: { id: string | null; name: string; timeZone: string | null };
  openedAt: string;
  response: ClockState | null;
  fix: ClockState | null;
  nextEscalation: { level: number; trigger: string; at: string } | null;
}

/**
 * The dispatcher board: the open incidents the viewer may see (the API's scope rule), each with its
 * response and fix clocks computed now (the same clock rule as the API and the workflow), the next
 * escalation due, filters and sorting; the rows reload in place when an incident changes anywhere
 * (Server-Sent Events) and every 15 s for the countdowns.
 */
export function incidentPages({ db, temporal, feed, attachmentsDir }: { db: Db; temporal: Client; feed: IncidentFeed; attachmentsDir: string }) {
  const sharedRows = new Map<string, { at: number; body: Promise<string> }>();
  return new Hono<ConsoleEnv>()
    .get('/board', async (c) => {
      if (!BOARD_ROLES.includes(c.get('actor').role)) return notFoundPage(c);
      const filters = filtersFrom(c.req.query());
      const [shown, sites] = await Promise.all([boardRows(db, c.get('actor'), c.get('scope'), filters), sitesInView(db, c.get('actor'), c.get('scope'))]);
      return c.html(page({ title: 'Board', actor: c.get('actor'), csrf: c.get('csrf') }, board(shown, filters, sites)));
    })
    .get('/board/rows', async (c) => {
      const actor = c.get('actor');
      if (!BOARD_ROLES.includes(actor.role)) return notFoundPage(c);
      const filters = filtersFrom(c.req.query());
      // Every open board asks for its rows at each change: boards that see the same (role, scope,
      // filters) share one rendering of the same state of the incidents, for up to a second.
      const key = `${actor.role}|${JSON.stringify(c.get('scope'))}|${queryOf(filters)}|${feed.signature ?? Math.floor(Date.now() / SHARED_ROWS_MS)}`;
      const shared = sharedRows.get(key);
      if (shared && Date.now() - shared.at < SHARED_ROWS_MS) return c.html(await shared.body);
      const body = (async () => String(await boardBody(await boardRows(db, actor, c.get('scope'), filters), filters)))();
      if (sharedRows.size >= 1000) sharedRows.clear();
      sharedRows.set(key, { at: Date.now(), body });
      body.catch(() => sharedRows.delete(key));
      return c.html(await body);
    })
    .get('/incidents/:id', (c) => incidentPage(db, c, null))
    .get('/incidents/:id/live', async (c) => {
      const incident = await loadIncident(db, c.req.param('id'), c.get('actor'), c.get('scope'));
      if (!incident) return notFoundPage(c);
      return c.html(incidentLive(incident, await termsOf(db, incident.id)));
    })
    .get('/incidents/:id/photos/:photoId', async (c) => {
      const { id, photoId } = c.req.param();
      const incident = await scoped(db.selectFrom('incidents').select('id'), 'incidents', c.get('actor'), c.get('scope')).where('id', '=', id).executeTakeFirst();
      const photo = incident && /^[0-9a-f-]{36}$/.test(photoId) ? await readPhoto(db, attachmentsDir, id, photoId) : null;
      if (!photo) return notFoundPage(c);
      return c.body(photo.bytes, 200, photo.headers);
    })
    .post('/incidents/:id/steps/:step', async (c) => {
      const { id, step } = c.req.param();
      if (!(HUMAN_STEP_NAMES as string[]).includes(step) || step === 'fix') return notFoundPage(c);
      const name = step as HumanStepName;
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const body = await stepBody(db, id, name, form);
      const refusal = body === null ? 'that technician does not serve this agreement' : await stepFromForm(db, temporal, c, id, name, body);
      // A step taken from a task page goes back there.
      const back = textField(form, 'back');
      const to = back && /^\/console\/tasks\/[^/]+$/.test(back) ? back : `/console/incidents/${id}`;
      return afterForm(c, refusal, to, () => incidentPage(db, c, { step: name, refusal: refusal!, form }));
    })
    .get('/live', (c) =>
      streamSSE(c, async (stream) => {
        let wake = null as (() => void) | null;
        let changed = false;
        const unsubscribe = feed.subscribe(() => {
          changed = true;
          wake?.();
        });
        stream.onAbort(unsubscribe);
        while (!stream.aborted && !feed.closed) {
          if (!changed) {
            await new Promise<void>((resolve) => {
              const keepAlive = setTimeout(resolve, 15_000);
              wake = () => {
                clearTimeout(keepAlive);
                resolve();
              };
            });
          }
          wake = null;
          if (stream.aborted || feed.closed) break;
          if (changed) {
            changed = false;
            await stream.writeSSE({ event: 'incidents', data: 'changed' });
          } else await stream.write(': still here\n\n');
        }
        unsubscribe();
      }),
    );
}

function filtersFrom(query: Record<string, string>): BoardFilters {
  const priority = (PRIORITIES as readonly string[]).includes(query.priority ?? '') ? query.priority! : null;
  const site = query.site && query.site.length <= 200 ? query.site : null;
  const sort = (query.sort ?? 'deadline') in SORTS ? (query.sort as Sort) : 'deadline';
  const page = /^[1-9]\d{0,5}$/.test(query.page ?? '') ? Number(query.page) : 1;
  return { priority, site, sort, page };
}

const queryOf = (f: BoardFilters) =>
  new URLSearchParams(Object.entries(f).filter(([key, v]) => v !== null && !(key === 'page' && v === 1)).map(([key, v]): [string, string] => [key, String(v)])).toString();

/**
 * One page of the board, ordered in SQL so that only the page's incidents are computed: by the
 * earliest breach to come of a clock still running (the projection's respond-by while the incident
 * is unacknowledged, its fix-by until it is fixed; a paused clock has none: last), by the newest,
 * or by priority then that deadline. The page's clocks are then computed exactly, as the API does.
 */
async function boardRows(db: Db, actor: ConsoleEnv['Variables']['actor'], scope: ConsoleEnv['Variables']['scope'], filters: BoardFilters): Promise<{ rows: BoardRow[]; total: number }> {
  let open = scoped(db.selectFrom('incidents'), 'incidents', actor, scope).where('status', 'not in', CLOSED_STATUSES);
  if (filters.priority) open = open.where('priority', '=', filters.priority as never);
  if (filters.site) open = open.where('siteId', '=', filters.site);
  const deadline = sql<Date | null>`least(case when acknowledged_at is null then respond_by end, case when status <> 'verifying' then fix_by end)`;
  let page = open.select(['id', 'priority', 'status', 'chargerId', 'connectorId', 'siteId', 'openedAt', 'acknowledgedAt', 'state']);
  if (filters.sort === 'deadline') page = page.orderBy(sql`${deadline} asc nulls last`).orderBy('openedAt', 'desc');
  if (filters.sort === 'opened') page = page.orderBy('openedAt', 'desc');
  if (filters.sort === 'priority') page = page.orderBy('priority').orderBy(sql`${deadline} asc nulls last`);
  const [found, counted] = await Promise.all([
    page.orderBy('id').limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE).execute(),
    open.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const now = new Date();
  const rows = found.map((row): BoardRow => {
    const state = row.state as Omit<Incident, 'faults' | 'steps'> | null;
    const response = state ? clockState(state.clocks.response, now) : null;
    const fix = state ? clockState(state.clocks.fix, now) : null;
    return {
      id: row.id,
      priority: row.priority,
      status: row.status,
      chargerId: row.chargerId,
      connectorId: row.connectorId,
      site: { id: row.siteId, name: state?.site?.name ?? row.siteId ?? '—', timeZone: state?.site?.timeZone ?? null },
      openedAt: row.openedAt.toISOString(),
      response,
      fix,
      nextEscalation: nextEscalation(row.id, state, row.acknowledgedAt !== null),
    };
  });
  return { rows, total: Number(counted.n) };
}

/** The sites the viewer's incidents are at, for the filter. */
async function sitesInView(db: Db, actor: ConsoleEnv['Variables']['actor'], scope: ConsoleEnv['Variables']['scope']) {
  const rows = await scoped(db.selectFrom('incidents').select('siteId').distinct(), 'incidents', actor, scope).where('siteId', 'is not', null).orderBy('siteId').execute();
  return rows.map((r) => r.siteId!);
}

function board(shown: { rows: BoardRow[]; total: number }, filters: BoardFilters, sites: string[]) {
  const option = (value: string, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  return html`<h1>Open incidents</h1>
    <form class="filters" method="get" action="/console/board">
      <label>Priority <select name="priority">${option('', 'All', filters.priority === null)}${PRIORITIES.map((p) => option(p, p, filters.priority === p))}</select></label>
      <label>Site <select name="site">${option('', 'All', filters.site === null)}${sites.map((s) => option(s, s, filters.site === s))}</select></label>
      <label>Sort by <select name="sort">${Object.entries(SORTS).map(([value, label]) => option(value, label, filters.sort === value))}</select></label>
      <button type="submit">Show</button>
    </form>
    <div hx-ext="sse" sse-connect="/console/live">
      <table class="board">
        <caption>Clocks count business time in each site's calendar; times are the site's.</caption>
        <thead>
          <tr><th scope="col">Priority</th><th scope="col">Site</th><th scope="col">Charger</th><th scope="col">Status</th><th scope="col">Response</th><th scope="col">Fix</th><th scope="col">Next escalation</th><th scope="col">Opened</th></tr>
        </thead>
        ${boardBody(shown, filters)}
      </table>
    </div>`;
}

function boardBody({ rows, total }: { rows: BoardRow[]; total: number }, filters: BoardFilters) {
  const first = (filters.page - 1) * PAGE_SIZE;
  const link = (page: number, label: string) => html`<a href="/console/board?${queryOf({ ...filters, page })}">${label}</a>`;
  const pages = html`<tr class="pages"><td colspan="8">${total === 0 ? '' : html`${first + 1}–${first + rows.length} of ${total} open incidents`}${filters.page > 1 ? html` · ${link(filters.page - 1, 'Previous')}` : ''}${first + rows.length < total ? html` · ${link(filters.page + 1, 'Next')}` : ''}</td></tr>`;
  return html`<tbody id="board-rows" hx-get="/console/board/rows?${queryOf(filters)}" hx-trigger="sse:incidents, every 15s" hx-swap="outerHTML">
    ${rows.length === 0 ? html`<tr><td colspan="8" class="empty">No open incidents${filters.page > 1 ? ' on this page' : ''}.</td></tr>` : rows.map(boardRow)}
    ${total > PAGE_SIZE || filters.page > 1 ? pages : ''}
  </tbody>`;
}

function boardRow(row: BoardRow) {
  const zone = row.site.timeZone;
  return html`<tr data-incident="${row.id}" class="priority-${row.priority}">
    <td data-label="Priority"><span class="badge ${row.priority}">${row.priority}</span></td>
    <td data-label="Site">${row.site.name}</td>
    <td data-label="Charger"><a href="/console/incidents/${row.id}">${row.chargerId}</a> <small>connector ${row.connectorId}</small></td>
    <td data-label="Status">${row.status}</td>
    <td data-label="Response">${clockCell('Response', row.response, zone)}</td>
    <td data-label="Fix">${clockCell('Fix', row.fix, zone)}</td>
    <td data-label="Next escalation">${row.nextEscalation ? html`L${row.nextEscalation.level} · ${row.nextEscalation.trigger}<br><small>${siteTime(row.nextEscalation.at, zone)}</small>` : html`—`}</td>
    <td data-label="Opened">${siteTime(row.openedAt, zone)}</td>
  </tr>`;
}

/** Remaining business time, percent used, paused, breached or met, with the deadline in the site's time. */
export function clockCell(name: string, clock: ClockState | null, zone: string | null) {
  if (!clock) return html`—`;
  if (clock.cancelled) return html`<span class="clock stopped">cancelled</span>`;
  if (clock.stopped) return html`<span class="clock ${clock.everBreached ? 'breached' : 'met'}">${clock.everBreached ? 'breached' : 'met'}</span>`;
  const state = clock.breached ? 'breached' : clock.paused ? 'paused' : 'running';
  const label = clock.breached ? `breached ${duration(clock.elapsedBusinessMs - clock.targetMs)} ago` : `${duration(clock.remainingMs)} left`;
  return html`<span class="clock ${state}">${label}${clock.paused ? html` · paused (${clock.pauseReason})` : ''}</span>
    <progress max="100" value="${Math.min(100, clock.percent)}" aria-label="${name} clock ${clock.percent} % used">${clock.percent} %</progress>
    <small class="due">${Math.floor(clock.percent)} % used · due ${siteTime(clock.breachAt, zone)}</small>`;
}

/** What the incident's agreement lets people choose from: pause reasons, and the next escalation due. */
export async function termsOf(db: Db, incidentId: string) {
  const row = await db.selectFrom('incidents').select(['state', 'acknowledgedAt', 'agreementId', 'siteId']).where('id', '=', incidentId).executeTakeFirst();
  const state = row?.state as Omit<Incident, 'faults' | 'steps'> | null | undefined;
  return {
    pauseReasons: state?.terms.pauseReasons ?? [],
    checklist: state?.terms.checklist ?? [],
    agreementId: row?.agreementId ?? null,
    siteId: row?.siteId ?? null,
    nextEscalation: nextEscalation(incidentId, state ?? null, Boolean(row?.acknowledgedAt)),
  };
}

/** The escalation notice due next (contracts/escalation.ts), as the board and the incident page show it. */
function nextEscalation(incidentId: string, state: Omit<Incident, 'faults' | 'steps'> | null, acknowledged: boolean) {
  const next = state ? dueEscalations(incidentId, state.terms.escalation, state.clocks, acknowledged, state.escalations)[0] : undefined;
  return next ? { level: next.level.level, trigger: describeTrigger(next.level.trigger), at: next.at.toISOString() } : null;
}
type Terms = Awaited<ReturnType<typeof termsOf>>;

/** The technicians who serve the incident's agreement: technician tokens scoped to it, its site, or to everything. */
async function techniciansServing(db: Db, agreementId: string | null, siteId: string | null) {
  const tokens = await db.selectFrom('apiTokens').select(['id', 'name', 'scope']).where('role', '=', 'technician').orderBy('name').execute();
  return tokens.filter(({ scope }) => !scope || (!scope.agreements?.length && !scope.sites?.length) || (agreementId && scope.agreements?.includes(agreementId)) || (siteId && scope.sites?.includes(siteId)));
}

/** A step's body from its form (the same fields the API takes); null when an assignee is not one of the agreement's technicians. */
export async function stepBody(db: Db, incidentId: string, name: HumanStepName, form: FormFields): Promise<Record<string, unknown> | null> {
  const body: Record<string, unknown> = {};
  const note = textField(form, 'note');
  if (note !== undefined) body.note = note;
  if (name === 'assign') {
    const terms = await termsOf(db, incidentId);
    const chosen = (await techniciansServing(db, terms.agreementId, terms.siteId)).find((t) => t.id === textField(form, 'technician'));
    if (!chosen) return null;
    body.technician = { id: chosen.id, name: chosen.name };
  }
  if (name === 'pause') body.reason = textField(form, 'reason');
  if (name === 'cancel') body.reason = textField(form, 'reason') ?? '';
  if (name === 'diagnose') {
    body.rootCause = textField(form, 'rootCause');
    const evidence = textField(form, 'evidence');
    if (evidence !== undefined) body.evidence = evidence;
  }
  return body;
}

/** The incident page: what happened, its clocks, and the steps the viewer may take now. */
async function incidentPage(db: Db, c: Context<ConsoleEnv>, refused: { step: HumanStepName; refusal: string; form: FormFields } | null) {
  const incident = await loadIncident(db, c.req.param('id')!, c.get('actor'), c.get('scope'));
  if (!incident) return notFoundPage(c);
  const terms = await termsOf(db, incident.id);
  const actor = c.get('actor');
  const steps = stepsOpenTo(actor.role, incident.status, HUMAN_STEP_NAMES).filter((s) => s !== 'fix' && s !== 'claim');
  const technicians = steps.includes('assign') ? await techniciansServing(db, terms.agreementId, terms.siteId) : [];
  const myTask = incident.tasks.find((t) => t.status !== 'done' && t.status !== 'cancelled');
  const zone = incident.site?.timeZone ?? null;
  const body = html`<p><a href="${actor.role === 'venue' ? '/console/venue' : '/console/board'}">← ${actor.role === 'venue' ? 'Your chargers' : 'Board'}</a></p>
    <h1><span class="badge ${incident.priority}">${incident.priority}</span> ${incident.chargerId} <small>connector ${incident.connectorId}</small></h1>
    ${incident.chargerId.startsWith('site:') ? '' : html`<p><a href="/console/chargers/${incident.chargerId}">The charger: status, events and commands</a></p>`}
    <dl class="facts">
      <dt>Site</dt><dd>${incident.site ? html`${incident.site.name}<br><small>${incident.site.address}</small>` : '—'}</dd>
      <dt>Status</dt><dd>${incident.status}${incident.outcome ? html` (${incident.outcome})` : ''}</dd>
      <dt>Agreement</dt><dd>${incident.agreement ? html`${incident.agreement.id} v${incident.agreement.version}${incident.agreement.faultClass ? html` · ${incident.agreement.faultClass}` : ''}` : '—'}</dd>
      <dt>Assignee</dt><dd>${incident.assignee?.name ?? '—'}</dd>
      <dt>Root cause</dt><dd>${incident.rootCause ? html`${incident.rootCause.cause}${incident.rootCause.evidence ? html` <small>(${incident.rootCause.evidence})</small>` : ''}` : '—'}</dd>
      <dt>Opened</dt><dd>${siteTime(incident.openedAt, zone)}</dd>
    </dl>
    ${myTask && actor.role === 'technician' ? html`<p><a class="button" href="/console/tasks/${myTask.id}">Open the task</a></p>` : ''}
    <div hx-ext="sse" sse-connect="/console/live">
      <div id="incident-live" hx-get="/console/incidents/${incident.id}/live" hx-trigger="sse:incidents, every 15s" hx-swap="innerHTML">${incidentLive(incident, terms)}</div>
    </div>
    <section aria-labelledby="steps-heading">
      <h2 id="steps-heading">Steps you can take</h2>
      ${steps.length === 0 ? html`<p>None now.</p>` : steps.map((name) => stepForm(incident.id, name, { terms, technicians, csrf: c.get('csrf'), refused: refused?.step === name ? refused : null }))}
    </section>`;
  return c.html(page({ title: `${incident.chargerId} incident`, actor, csrf: c.get('csrf') }, body), refused ? 400 : 200);
}

/** The parts of the incident page that change on their own: clocks, escalation, timeline, tasks. */
function incidentLive(incident: IncidentView, terms: Terms) {
  const zone = incident.site?.timeZone ?? null;
  const photos = incident.timeline.flatMap((entry) => ((entry.data as { photos?: { id: string; name: string }[] } | null)?.photos ?? []).map((p) => ({ ...p, at: entry.at })));
  return html`<section aria-labelledby="clocks-heading">
      <h2 id="clocks-heading">SLA clocks</h2>
      <dl class="facts">
        <dt>Response</dt><dd>${clockCell('Response', incident.sla.response as ClockState | null, zone)}</dd>
        <dt>Fix</dt><dd>${clockCell('Fix', incident.sla.fix as ClockState | null, zone)}</dd>
        <dt>Next escalation</dt><dd>${terms.nextEscalation ? html`L${terms.nextEscalation.level} · ${terms.nextEscalation.trigger}, ${siteTime(terms.nextEscalation.at, zone)}` : '—'}</dd>
      </dl>
    </section>
    <section aria-labelledby="tasks-heading">
      <h2 id="tasks-heading">Tasks</h2>
      ${incident.tasks.length === 0 ? html`<p>None.</p>` : html`<ul>${incident.tasks.map((t) => html`<li>${t.kind} · ${t.status}${t.assignee ? html` · ${t.assignee.name}` : ''} · due ${siteTime(t.dueAt, zone)}</li>`)}</ul>`}
    </section>
    ${photos.length > 0 ? html`<section aria-labelledby="photos-heading"><h2 id="photos-heading">Photos</h2><ul class="photos">${photos.map((p) => html`<li><a href="/console/incidents/${incident.id}/photos/${p.id}"><img src="/console/incidents/${incident.id}/photos/${p.id}" alt="Photo ${p.name}, ${p.at}" width="160"></a></li>`)}</ul></section>` : ''}
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <ol class="timeline">
        ${incident.timeline.map((entry) => html`<li><span class="when">${siteTime(entry.at, zone)}</span> <strong>${entry.kind === 'fault' ? html`fault ${entry.what}` : entry.what}</strong>${entry.actor ? html` · ${entry.actor}` : ''}${entry.note ? html`<br><span class="note">${entry.note}</span>` : ''}</li>`)}
      </ol>
    </section>`;
}

const STEP_LABELS: Partial<Record<HumanStepName, string>> = { acknowledge: 'Acknowledge', assign: 'Assign', pause: 'Pause the clocks', resume: 'Resume the clocks', diagnose: 'Record the diagnosis', cancel: 'Cancel the incident', resolve: 'Resolve now', unclaim: 'Hand back', accept: 'Accept', arrive: 'On site' };

/** One step's form: the step's own fields, a note, the CSRF token; htmx keeps the page and says what happened. */
export function stepForm(incidentId: string, name: HumanStepName, { terms, technicians, csrf, refused, back }: { terms: Terms; technicians: { id: string; name: string }[]; csrf: string; refused: { refusal: string; form: FormFields } | null; back?: string }) {
  const action = `/console/incidents/${incidentId}/steps/${name}`;
  const typed = (field: string) => (refused ? (textField(refused.form, field) ?? '') : '');
  const select = (field: string, label: string, options: readonly { value: string; label: string }[]) =>
    html`<label>${label} <select name="${field}" required>${options.map((o) => html`<option value="${o.value}"${typed(field) === o.value ? html` selected` : ''}>${o.label}</option>`)}</select></label>`;
  const fields =
    name === 'assign'
      ? technicians.length === 0
        ? html`<p>No technician serves this agreement yet: an account manager issues one a token.</p>`
        : select('technician', 'Technician', technicians.map((t) => ({ value: t.id, label: t.name })))
      : name === 'pause'
        ? select('reason', 'Reason', terms.pauseReasons.map((r) => ({ value: r, label: r })))
        : name === 'diagnose'
          ? html`${select('rootCause', 'Root cause', ROOT_CAUSES.map((r) => ({ value: r, label: r })))}<label>Evidence <textarea name="evidence" maxlength="2000">${typed('evidence')}</textarea></label>`
          : name === 'cancel'
            ? html`<label>Reason <input name="reason" required maxlength="500" value="${typed('reason')}"></label>`
            : '';
  return html`<form class="step" method="post" action="${action}" hx-post="${action}" hx-target="find .form-status" hx-swap="innerHTML">
    <h3>${STEP_LABELS[name] ?? name}</h3>
    <p><small>${HUMAN_STEPS[name].summary}</small></p>
    ${fields}
    <label>Note <textarea name="note" maxlength="2000">${typed('note')}</textarea></label>
    <input type="hidden" name="_csrf" value="${csrf}">
    ${back ? html`<input type="hidden" name="back" value="${back}">` : ''}
    ${formStatus(refused?.refusal ?? null)}
    <button type="submit">${STEP_LABELS[name] ?? name}</button>
  </form>`;
}
