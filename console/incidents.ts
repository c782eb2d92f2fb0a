import { Hono } from 'hono';
import { html } from 'hono/html';
import { streamSSE } from 'hono/streaming';
import { scoped } from '../api/scope.js';
import { dueEscalations, describeTrigger } from '../contracts/escalation.js';
import { CLOSED_STATUSES, type Incident } from '../contracts/incident.js';
import { clockState, type ClockState } from '../contracts/sla-clock.js';
import type { Db } from '../db/connect.js';
import { PRIORITIES } from '../contracts/faults.js';
import type { IncidentFeed } from './live.js';
import { duration, notFoundPage, page, siteTime } from './layout.js';
import type { ConsoleEnv } from './sessions.js';

const BOARD_ROLES = ['account-manager', 'dispatcher', 'technician'];
const SORTS = { deadline: 'next deadline', opened: 'newest first', priority: 'priority' } as const;
type Sort = keyof typeof SORTS;

interface BoardFilters {
  priority: string | null;
  site: string | null;
  sort: Sort;
}

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
  /** The earliest breach to come (or already passed) of a clock still running; null when none runs. */
  deadline: string | null;
}

/**
 * The dispatcher board: the open incidents the viewer may see (the API's scope rule), each with its
 * response and fix clocks computed now (the same clock rule as the API and the workflow), the next
 * escalation due, filters and sorting; the rows reload in place when an incident changes anywhere
 * (Server-Sent Events) and every 15 s for the countdowns.
 */
export function incidentPages(db: Db, feed: IncidentFeed) {
  return new Hono<ConsoleEnv>()
    .get('/board', async (c) => {
      if (!BOARD_ROLES.includes(c.get('actor').role)) return notFoundPage(c);
      const filters = filtersFrom(c.req.query());
      const rows = await boardRows(db, c.get('actor'), c.get('scope'), filters);
      const sites = await sitesInView(db, c.get('actor'), c.get('scope'));
      return c.html(page({ title: 'Board', actor: c.get('actor'), csrf: c.get('csrf') }, board(rows, filters, sites)));
    })
    .get('/board/rows', async (c) => {
      if (!BOARD_ROLES.includes(c.get('actor').role)) return notFoundPage(c);
      const filters = filtersFrom(c.req.query());
      return c.html(boardBody(await boardRows(db, c.get('actor'), c.get('scope'), filters), filters));
    })
    .get('/live', (c) =>
      streamSSE(c, async (stream) => {
        let wake: (() => void) | null = null;
        let changed = false;
        const unsubscribe = feed.subscribe(() => {
          changed = true;
          wake?.();
        });
        stream.onAbort(unsubscribe);
        while (!stream.aborted) {
          if (!changed) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, 15_000)));
          wake = null;
          if (stream.aborted) break;
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
  return { priority, site, sort };
}

const queryOf = (f: BoardFilters) => new URLSearchParams(Object.entries(f).filter(([, v]) => v !== null) as [string, string][]).toString();

async function boardRows(db: Db, actor: ConsoleEnv['Variables']['actor'], scope: ConsoleEnv['Variables']['scope'], filters: BoardFilters): Promise<BoardRow[]> {
  let query = scoped(db.selectFrom('incidents').select(['id', 'priority', 'status', 'chargerId', 'connectorId', 'siteId', 'openedAt', 'acknowledgedAt', 'state']), 'incidents', actor, scope)
    .where('status', 'not in', CLOSED_STATUSES)
    .orderBy('openedAt', 'desc')
    .limit(1000);
  if (filters.priority) query = query.where('priority', '=', filters.priority as never);
  if (filters.site) query = query.where('siteId', '=', filters.site);
  const now = new Date();
  const rows = (await query.execute()).map((row): BoardRow => {
    const state = row.state as Omit<Incident, 'faults' | 'steps'> | null;
    const response = state ? clockState(state.clocks.response, now) : null;
    const fix = state ? clockState(state.clocks.fix, now) : null;
    const next = state ? dueEscalations(row.id, state.terms.escalation, state.clocks, row.acknowledgedAt !== null, state.escalations)[0] : undefined;
    const deadlines = [response, fix].filter((clock) => clock && clock.running && clock.breachAt).map((clock) => clock!.breachAt!);
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
      nextEscalation: next ? { level: next.level.level, trigger: describeTrigger(next.level.trigger), at: next.at.toISOString() } : null,
      deadline: deadlines.sort()[0] ?? null,
    };
  });
  if (filters.sort === 'deadline') rows.sort((a, b) => (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999') || b.openedAt.localeCompare(a.openedAt));
  if (filters.sort === 'priority') rows.sort((a, b) => a.priority.localeCompare(b.priority) || (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999'));
  return rows;
}

/** The sites the viewer's incidents are at, for the filter. */
async function sitesInView(db: Db, actor: ConsoleEnv['Variables']['actor'], scope: ConsoleEnv['Variables']['scope']) {
  const rows = await scoped(db.selectFrom('incidents').select('siteId').distinct(), 'incidents', actor, scope).where('siteId', 'is not', null).orderBy('siteId').execute();
  return rows.map((r) => r.siteId!);
}

function board(rows: BoardRow[], filters: BoardFilters, sites: string[]) {
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
        ${boardBody(rows, filters)}
      </table>
    </div>`;
}

function boardBody(rows: BoardRow[], filters: BoardFilters) {
  return html`<tbody id="board-rows" hx-get="/console/board/rows?${queryOf(filters)}" hx-trigger="sse:incidents, every 15s" hx-swap="outerHTML">
    ${rows.length === 0 ? html`<tr><td colspan="8" class="empty">No open incidents.</td></tr>` : rows.map(boardRow)}
  </tbody>`;
}

function boardRow(row: BoardRow) {
  const zone = row.site.timeZone;
  return html`<tr data-incident="${row.id}" class="priority-${row.priority}">
    <td data-label="Priority"><span class="badge ${row.priority}">${row.priority}</span></td>
    <td data-label="Site">${row.site.name}</td>
    <td data-label="Charger">${row.chargerId} <small>connector ${row.connectorId}</small></td>
    <td data-label="Status">${row.status}</td>
    <td data-label="Response">${clockCell('Response', row.response, zone)}</td>
    <td data-label="Fix">${clockCell('Fix', row.fix, zone)}</td>
    <td data-label="Next escalation">${row.nextEscalation ? html`L${row.nextEscalation.level} · ${row.nextEscalation.trigger}<br><small>${siteTime(row.nextEscalation.at, zone)}</small>` : html`—`}</td>
    <td data-label="Opened">${siteTime(row.openedAt, zone)}</td>
  </tr>`;
}

/** Remaining business time, percent used, paused, breached or met, with the deadline in the site's time. */
function clockCell(name: string, clock: ClockState | null, zone: string | null) {
  if (!clock) return html`—`;
  if (clock.cancelled) return html`<span class="clock stopped">cancelled</span>`;
  if (clock.stopped) return html`<span class="clock ${clock.everBreached ? 'breached' : 'met'}">${clock.everBreached ? 'breached' : 'met'}</span>`;
  const state = clock.breached ? 'breached' : clock.paused ? 'paused' : 'running';
  const label = clock.breached ? `breached ${duration(clock.elapsedBusinessMs - clock.targetMs)} ago` : `${duration(clock.remainingMs)} left`;
  return html`<span class="clock ${state}">${label}${clock.paused ? html` · paused (${clock.pauseReason})` : ''}</span>
    <progress max="100" value="${Math.min(100, clock.percent)}" aria-label="${name} clock ${clock.percent} % used">${clock.percent} %</progress>
    <small class="due">${Math.floor(clock.percent)} % used · due ${siteTime(clock.breachAt, zone)}</small>`;
}
