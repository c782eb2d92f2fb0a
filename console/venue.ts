import { Hono } from 'hono';
import { html } from 'hono/html';
import { DateTime } from 'luxon';
import { scoped } from '../api/scope.js';
import { agreementsInForce } from '../agreements/store.js';
import { portUptimeFromHistory } from '../agreements/uptime-report.js';
import type { Agreement } from '../contracts/agreement.js';
import { CLOSED_STATUSES } from '../contracts/incident.js';
import type { Db } from '../db/connect.js';
import { notFoundPage, page, siteTime } from './layout.js';
import type { ConsoleEnv } from './sessions.js';
import { statementsTable } from './statements.js';

/**
 * The venue portal: the venue's sites and chargers with their status now, this month's uptime per
 * port (as the statement will measure it), open and recent incidents (read only), and statements.
 * A venue token is scoped to sites; it sees those sites only.
 */
export function venuePages(db: Db) {
  return new Hono<ConsoleEnv>()
    .get('/venue', async (c) => {
      if (c.get('actor').role !== 'venue') return notFoundPage(c);
      const sites = await sitesOf(db, c.get('scope')?.sites ?? []);
      const agreements = new Map(sites.map((s) => [s.agreement.id, s.agreement]));
      const body = html`<h1>Your chargers</h1>
        <div id="venue-status" hx-get="/console/venue/status" hx-trigger="every 15s" hx-swap="innerHTML">${await statusSection(db, sites)}</div>
        <h2>Incidents</h2>
        ${await incidentsSection(db, c.get('actor'), c.get('scope'))}
        <h2>Statements</h2>
        ${await statementsTable(db, c.var, agreements)}`;
      return c.html(page({ title: 'Your chargers', actor: c.get('actor'), csrf: c.get('csrf') }, body));
    })
    .get('/venue/status', async (c) => {
      if (c.get('actor').role !== 'venue') return notFoundPage(c);
      return c.html(await statusSection(db, await sitesOf(db, c.get('scope')?.sites ?? [])));
    });
}

/** The venue's sites, each with the agreement in force that lists it. */
async function sitesOf(db: Db, siteIds: string[]) {
  const agreements = await agreementsInForce(db);
  return agreements.flatMap((agreement) => agreement.sites.filter((s) => siteIds.includes(s.id)).map((site) => ({ site, agreement })));
}

async function statusSection(db: Db, sites: { site: Agreement['sites'][number]; agreement: Agreement }[]) {
  if (sites.length === 0) return html`<p>No site of yours is under an agreement yet.</p>`;
  const ids = sites.flatMap((s) => s.site.chargers.map((c) => c.id));
  const [chargers, connectors] = await Promise.all([
    db.selectFrom('chargers').select(['id', 'connected', 'lastSeenAt']).where('id', 'in', ids).execute(),
    db.selectFrom('connectorStatus').select(['chargerId', 'connectorId', 'status', 'at']).where('chargerId', 'in', ids).execute(),
  ]);
  const now = new Date();
  const sections = [];
  for (const { site, agreement } of sites) {
    const monthStart = DateTime.fromJSDate(now, { zone: site.timeZone }).startOf('month');
    const rows = [];
    for (const charger of site.chargers) {
      const known = chargers.find((c) => c.id === charger.id);
      for (let connectorId = 1; connectorId <= charger.connectors; connectorId++) {
        const status = connectors.find((c) => c.chargerId === charger.id && c.connectorId === connectorId);
        const uptime = await portUptimeFromHistory(db, agreement, charger.id, connectorId, { start: monthStart.toJSDate(), end: now }, now);
        rows.push(html`<tr>
          <td data-label="Charger"><a href="/console/chargers/${charger.id}">${charger.id}</a> <small>${charger.model}</small></td>
          <td data-label="Connector">${connectorId}</td>
          <td data-label="Status">${!known?.connected ? html`<span class="clock breached">offline</span>` : (status?.status ?? 'unknown')}${status ? html`<br><small>since ${siteTime(status.at.toISOString(), site.timeZone)}</small>` : ''}</td>
          <td data-label="Last seen">${siteTime(known?.lastSeenAt?.toISOString() ?? null, site.timeZone)}</td>
          <td data-label="Uptime this month">${uptime.uptimePercent.toFixed(2)} %</td>
        </tr>`);
      }
    }
    sections.push(html`<section aria-label="${site.name}">
      <h2>${site.name}</h2>
      <p><small>${site.address} · uptime from ${monthStart.toFormat('d LLL')} until now, by the agreement's rules (target ${agreement.sla.uptime.targetPercent} %)</small></p>
      <table class="board">
        <thead><tr><th scope="col">Charger</th><th scope="col">Connector</th><th scope="col">Status</th><th scope="col">Last seen</th><th scope="col">Uptime this month</th></tr></thead>
        <tbody>${rows}</tbody>
      </table>
    </section>`);
  }
  return html`${sections}`;
}

/** Open incidents and those closed in the last 30 days, at the venue's sites. */
async function incidentsSection(db: Db, actor: ConsoleEnv['Variables']['actor'], scope: ConsoleEnv['Variables']['scope']) {
  const since = new Date(Date.now() - 30 * 86_400_000);
  const rows = await scoped(db.selectFrom('incidents').select(['id', 'chargerId', 'connectorId', 'status', 'priority', 'openedAt', 'resolvedAt', 'state']), 'incidents', actor, scope)
    .where((eb) => eb.or([eb('status', 'not in', CLOSED_STATUSES), eb('openedAt', '>=', since)]))
    .orderBy('openedAt', 'desc')
    .limit(100)
    .execute();
  if (rows.length === 0) return html`<p>No incident in the last 30 days.</p>`;
  return html`<ul class="tasks">${rows.map((r) => {
    const zone = (r.state as { site?: { timeZone?: string } | null } | null)?.site?.timeZone ?? null;
    return html`<li><a class="task" href="/console/incidents/${r.id}"><span class="badge ${r.priority}">${r.priority}</span> ${r.chargerId} · connector ${r.connectorId} · <strong>${r.status}</strong><br><small>opened ${siteTime(r.openedAt.toISOString(), zone)}${r.resolvedAt ? html` · resolved ${siteTime(r.resolvedAt.toISOString(), zone)}` : ''}</small></a></li>`;
  })}</ul>`;
}
