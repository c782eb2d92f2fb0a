import type { Client } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import diff from 'microdiff';
import { summariseAgreement } from '../agreements/summary.js';
import { toProblem } from '../api/problem.js';
import { scopeWithin } from '../api/scope.js';
import { approveFor, visibleStatements } from '../api/statements.js';
import type { Agreement } from '../contracts/agreement.js';
import { MAY } from '../contracts/roles.js';
import type { Db } from '../db/connect.js';
import { notFoundPage, page, siteTime } from './layout.js';
import type { ConsoleEnv } from './sessions.js';
import { statementsTable } from './statements.js';

const isAccountManager = (c: Context<ConsoleEnv>) => (MAY.settleAccounts as readonly string[]).includes(c.get('actor').role);

/**
 * The account manager's pages: the agreements within their scope, each with its versions — a
 * readable summary (the CLI's `contracts show`) and what each version changed — and the statements,
 * with those awaiting approval first, approved here.
 */
export function agreementPages({ db, temporal }: { db: Db; temporal: Client }) {
  /** Every version of every agreement the viewer's scope covers, newest version last. */
  async function versionsInScope(c: Context<ConsoleEnv>) {
    const rows = await db.selectFrom('agreementVersions').select(['agreementId', 'version', 'effectiveFrom', 'removedAt', 'content']).orderBy('agreementId').orderBy('version').execute();
    return rows.filter((r) => {
      const a = r.content as Agreement;
      return scopeWithin({ agreements: [a.id], sites: a.sites.map((s) => s.id) }, c.get('scope'));
    });
  }

  async function statementsPage(c: Context<ConsoleEnv>, notice: { text: string; error?: boolean } | null, status: 200 | 400 = 200) {
    const viewer = c.var;
    const rows = await visibleStatements(db, viewer.actor, viewer.scope);
    const versions = await versionsInScope(c);
    const agreements = new Map(versions.map((v) => [v.agreementId, v.content as Agreement]));
    const events = rows.length ? await db.selectFrom('statementEvents').select(['statementId', 'kind']).where('statementId', 'in', rows.map((r) => r.id)).execute() : [];
    const done = new Set(events.filter((e) => e.kind === 'approved' || e.kind === 'sent').map((e) => e.statementId));
    const latest = new Map<string, number>();
    for (const r of rows) if (r.kind === 'statement') latest.set(`${r.agreementId}:${r.month}`, Math.max(latest.get(`${r.agreementId}:${r.month}`) ?? 0, r.revision));
    const awaiting = rows.filter((r) => r.kind === 'statement' && !done.has(r.id) && latest.get(`${r.agreementId}:${r.month}`) === r.revision && agreements.get(r.agreementId)?.settlement.approvalBeforeSending);
    const csrf = c.get('csrf');
    const body = html`<h1>Statements</h1>
      ${notice ? html`<div class="${notice.error ? 'error' : 'notice'}" role="${notice.error ? 'alert' : 'status'}"><p>${notice.text}</p></div>` : ''}
      <h2>Awaiting your approval</h2>
      ${awaiting.length === 0
        ? html`<p>Nothing waits for approval.</p>`
        : html`<ul class="tasks">${awaiting.map(
            (r) => html`<li class="task">
              <strong>${r.id}</strong> · ${agreements.get(r.agreementId)?.name ?? r.agreementId} · ${r.month}${r.revision > 1 ? html` · revision ${r.revision}` : ''}<br>
              <small>due ${r.due} ${r.currency} (positive: the venue pays) · issued ${r.issuedOn}</small><br>
              <a href="/console/statements/${r.id}/html">Read it</a> · <a href="/console/statements/${r.id}/pdf">PDF</a>
              <form method="post" action="/console/statements/${r.id}/approve"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Approve and send</button></form>
            </li>`,
          )}</ul>`}
      <h2>All statements</h2>
      ${await statementsTable(db, viewer, agreements)}`;
    return c.html(page({ title: 'Statements', actor: viewer.actor, csrf }, body), status);
  }

  return new Hono<ConsoleEnv>()
    .get('/agreements', async (c) => {
      if (!isAccountManager(c)) return notFoundPage(c);
      const versions = await versionsInScope(c);
      const byAgreement = new Map<string, typeof versions>();
      for (const v of versions) byAgreement.set(v.agreementId, [...(byAgreement.get(v.agreementId) ?? []), v]);
      const body = html`<h1>Agreements</h1>
        <ul class="tasks">${[...byAgreement.values()].map((list) => {
          const last = list.at(-1)!;
          const a = last.content as Agreement;
          return html`<li><a class="task" href="/console/agreements/${a.id}"><strong>${a.name}</strong><br>${a.serviceModel} · ${a.sites.length} site${a.sites.length === 1 ? '' : 's'}, ${a.sites.flatMap((s) => s.chargers).length} chargers · version ${last.version}${last.removedAt ? html` · <span class="clock breached">removed</span>` : ''}</a></li>`;
        })}</ul>`;
      return c.html(page({ title: 'Agreements', actor: c.get('actor'), csrf: c.get('csrf') }, body));
    })
    .get('/agreements/:id', async (c) => {
      if (!isAccountManager(c)) return notFoundPage(c);
      const versions = (await versionsInScope(c)).filter((v) => v.agreementId === c.req.param('id'));
      if (versions.length === 0) return notFoundPage(c);
      const latest = versions.at(-1)!.content as Agreement;
      const zone = latest.sites[0]?.timeZone ?? null;
      const body = html`<p><a href="/console/agreements">← Agreements</a></p>
        <h1>${latest.name}</h1>
        <pre class="summary" tabindex="0" aria-label="Summary of the latest version">${summariseAgreement(latest)}</pre>
        <h2>Versions</h2>
        <ol class="timeline">${[...versions].reverse().map((v, i, newestFirst) => {
          const previous = newestFirst[i + 1];
          const changes = previous ? diff(previous.content as object, v.content as object) : [];
          return html`<li>
            <strong>Version ${v.version}</strong> · in force from ${siteTime(v.effectiveFrom.toISOString(), zone)}${v.removedAt ? html` · removed ${siteTime(v.removedAt.toISOString(), zone)}` : ''}
            ${previous
              ? changes.length === 0
                ? html`<p><small>No change in its terms.</small></p>`
                : html`<ul class="changes">${changes.map((d) => html`<li><code>${d.path.join('.')}</code>: ${d.type === 'CREATE' ? html`added ${show(d.value)}` : d.type === 'REMOVE' ? html`removed (was ${show(d.oldValue)})` : html`${show(d.oldValue)} → ${show(d.value)}`}</li>`)}</ul>`
              : html`<p><small>The first version.</small></p>`}
          </li>`;
        })}</ol>`;
      return c.html(page({ title: latest.name, actor: c.get('actor'), csrf: c.get('csrf') }, body));
    })
    .get('/statements', (c) => (isAccountManager(c) ? statementsPage(c, null) : notFoundPage(c)))
    .post('/statements/:id/approve', async (c) => {
      if (!isAccountManager(c)) return notFoundPage(c);
      try {
        await approveFor(db, temporal, c.req.param('id'), c.get('actor'), c.get('scope'));
      } catch (error) {
        const problem = toProblem(error, c.req.path);
        if (problem.status === 404) return notFoundPage(c);
        if (problem.status >= 500 && problem.status !== 503) throw error;
        return statementsPage(c, { text: `Not approved: ${problem.detail}`, error: true }, 400);
      }
      return statementsPage(c, { text: `Approved ${c.req.param('id')}: it is on its way to the recipients.` });
    });
}

/** A value in a change, short: objects as compact JSON, at most 120 characters. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}
