import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { chargerViews } from '../api/chargers.js';
import { chargerInScope, scoped } from '../api/scope.js';
import { agreementsInForce } from '../agreements/store.js';
import { CLOSED_STATUSES } from '../contracts/incident.js';
import type { Db } from '../db/connect.js';
import { notFoundPage, page, siteTime } from './layout.js';
import type { ConsoleEnv } from './sessions.js';

/**
 * A charger's page: its connectors' status now, when it was last seen, its open incidents, the
 * status reports and events it sent lately, and the OCPP commands sent to it with their answers.
 * The part that changes reloads every 10 s and when an incident changes.
 */
export function chargerPages(db: Db) {
  async function live(c: Context<ConsoleEnv>, id: string) {
    const [charger] = await chargerViews(db, [id]);
    if (!charger) return null;
    const zone = (await agreementsInForce(db)).flatMap((a) => a.sites).find((s) => s.id === charger.coveredBy?.site)?.timeZone ?? null;
    const [statuses, events, incidents] = await Promise.all([
      db.selectFrom('statusLog').select(['connectorId', 'status', 'errorCode', 'info', 'reportedAt']).where('chargerId', '=', id).orderBy('reportedAt', 'desc').orderBy('id', 'desc').limit(20).execute(),
      db.selectFrom('chargerEvents').select(['kind', 'at', 'data']).where('chargerId', '=', id).orderBy('at', 'desc').orderBy('id', 'desc').limit(30).execute(),
      scoped(db.selectFrom('incidents').select(['id', 'connectorId', 'status', 'priority', 'openedAt']), 'incidents', c.get('actor'), c.get('scope'))
        .where('chargerId', '=', id)
        .where('status', 'not in', CLOSED_STATUSES)
        .orderBy('openedAt', 'desc')
        .execute(),
    ]);
    const event = (kind: string, data: Record<string, unknown> | null) => {
      if (kind !== 'command' || !data) return html`${kind}${data ? html` <small>${summary(data)}</small>` : ''}`;
      const { command, params, ...answer } = data as { command?: string; params?: unknown };
      return html`command <strong>${command ?? '?'}</strong> <small>${summary(params)}</small><br><small>answer: ${summary(answer)}</small>`;
    };
    return {
      charger,
      body: html`<dl class="facts">
          <dt>Connection</dt><dd>${charger.connected ? html`<span class="clock met">connected</span> since ${siteTime(charger.connectedAt, zone)}` : html`<span class="clock breached">offline</span>`}</dd>
          <dt>Last seen</dt><dd>${siteTime(charger.lastSeenAt, zone)}</dd>
          <dt>Model</dt><dd>${[charger.vendor, charger.model].filter(Boolean).join(' ') || '—'}${charger.firmwareVersion ? html` · firmware ${charger.firmwareVersion}` : ''} · ${charger.protocol ?? 'never connected'}</dd>
          <dt>Site</dt><dd>${charger.coveredBy?.siteName ?? charger.siteId ?? '—'}${charger.coveredBy ? html` <small>(${charger.coveredBy.agreement})</small>` : ''}</dd>
        </dl>
        <h2>Connectors</h2>
        <table class="board"><thead><tr><th scope="col">Connector</th><th scope="col">Status</th><th scope="col">Since</th></tr></thead>
          <tbody>${charger.connectors.length === 0 ? html`<tr><td colspan="3" class="empty">No status reported yet.</td></tr>` : charger.connectors.map((k) => html`<tr><td data-label="Connector">${k.connectorId}</td><td data-label="Status">${k.status}${k.errorCode && k.errorCode !== 'NoError' ? html` <small>${k.errorCode}</small>` : ''}</td><td data-label="Since">${siteTime(k.at, zone)}</td></tr>`)}</tbody>
        </table>
        <h2>Open incidents</h2>
        ${incidents.length === 0 ? html`<p>None.</p>` : html`<ul>${incidents.map((i) => html`<li><a href="/console/incidents/${i.id}"><span class="badge ${i.priority}">${i.priority}</span> connector ${i.connectorId} · ${i.status}</a> · opened ${siteTime(i.openedAt.toISOString(), zone)}</li>`)}</ul>`}
        <h2>Recent status reports</h2>
        <ol class="timeline">${statuses.map((r) => html`<li><span class="when">${siteTime(r.reportedAt.toISOString(), zone)}</span> connector ${r.connectorId}: <strong>${r.status}</strong>${r.errorCode && r.errorCode !== 'NoError' ? html` ${r.errorCode}` : ''}${r.info ? html` <small>${r.info}</small>` : ''}</li>`)}</ol>
        <h2>Recent events and commands</h2>
        <ol class="timeline">${events.map((e) => html`<li><span class="when">${siteTime(e.at.toISOString(), zone)}</span> ${event(e.kind, e.data as Record<string, unknown> | null)}</li>`)}</ol>`,
    };
  }

  return new Hono<ConsoleEnv>()
    .get('/chargers/:id', async (c) => {
      const id = c.req.param('id');
      if (id.length > 100 || !(await chargerInScope(db, id, c.get('actor'), c.get('scope')))) return notFoundPage(c);
      const shown = await live(c, id);
      if (!shown) return notFoundPage(c);
      const body = html`<h1>${id}</h1>
        <div hx-ext="sse" sse-connect="/console/live">
          <div id="charger-live" hx-get="/console/chargers/${id}/live" hx-trigger="sse:incidents, every 10s" hx-swap="innerHTML">${shown.body}</div>
        </div>`;
      return c.html(page({ title: id, actor: c.get('actor'), csrf: c.get('csrf') }, body));
    })
    .get('/chargers/:id/live', async (c) => {
      const id = c.req.param('id');
      const shown = id.length <= 100 && (await chargerInScope(db, id, c.get('actor'), c.get('scope'))) ? await live(c, id) : null;
      return shown ? c.html(shown.body) : notFoundPage(c);
    });
}

/** Compact JSON of a payload, at most 200 characters. */
function summary(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 197)}…` : text;
}
