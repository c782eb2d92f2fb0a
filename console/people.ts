import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { agreementsInForce } from '../agreements/store.js';
import { toProblem } from '../api/problem.js';
import { scopeWithin } from '../api/scope.js';
import { issueFor, parseNewToken, peopleVisibleTo, revokeFor } from '../api/tokens.js';
import { MAY, ROLES } from '../contracts/roles.js';
import type { Db } from '../db/connect.js';
import type { Mailer } from '../platform/mailer.js';
import { hashToken } from '../platform/secrets.js';
import { notFoundPage, page } from './layout.js';
import { createSignInLink, LINK_MINUTES, type ConsoleEnv } from './sessions.js';
import { textField, type FormFields } from './steps.js';

const may = (role: string, list: readonly string[]) => list.includes(role);

/**
 * People and their access, for account managers (and dispatchers, who may look and send links):
 * who holds access within the viewer's scope, a one-time sign-in link by e-mail, and — for account
 * managers — access given (a token shown once) and taken away. The API's rules decide (api/tokens.ts).
 */
export function peoplePages({ db, mailer, publicUrl }: { db: Db; mailer: Mailer; publicUrl: string | undefined }) {
  async function peoplePage(c: Context<ConsoleEnv>, notice: { text: string; error?: boolean; token?: string } | null, status: 200 | 400 | 403 = 200) {
    const actor = c.get('actor');
    const people = await peopleVisibleTo(db, c.get('scope'));
    const agreements = (await agreementsInForce(db)).filter((a) => scopeWithin({ agreements: [a.id], sites: a.sites.map((s) => s.id) }, c.get('scope')) || !c.get('scope'));
    const csrf = c.get('csrf');
    const hidden = html`<input type="hidden" name="_csrf" value="${csrf}">`;
    const scopeText = (scope: { agreements?: string[]; sites?: string[] } | null) => (!scope ? 'everything' : [...(scope.agreements ?? []), ...(scope.sites ?? [])].join(', '));
    const body = html`<h1>People and access</h1>
      ${notice ? html`<div class="${notice.error ? 'error' : 'notice'}" role="${notice.error ? 'alert' : 'status'}"><p>${notice.text}</p>${notice.token ? html`<p><code class="secret">${notice.token}</code></p><p><small>Shown this once. Give it to the person, or send them a sign-in link.</small></p>` : ''}</div>` : ''}
      <table class="board">
        <caption>Everyone who holds access you can see</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Sees</th><th scope="col">E-mail</th><th scope="col">Actions</th></tr></thead>
        <tbody>${people.map(
          (p) => html`<tr>
            <td data-label="Name">${p.name}</td>
            <td data-label="Role">${p.role}</td>
            <td data-label="Sees">${scopeText(p.scope)}</td>
            <td data-label="E-mail">${p.email ?? '—'}</td>
            <td data-label="Actions" class="actions">
              ${p.email ? html`<form method="post" action="/console/people/${p.id}/sign-in-link">${hidden}<button type="submit">Send a sign-in link</button></form>` : ''}
              ${may(actor.role, MAY.issueTokens) && p.id !== actor.id ? html`<form method="post" action="/console/people/${p.id}/revoke">${hidden}<button type="submit" class="danger">Revoke access</button></form>` : ''}
            </td>
          </tr>`,
        )}</tbody>
      </table>
      ${may(actor.role, MAY.issueTokens)
        ? html`<form class="step" method="post" action="/console/people">
            <h2>Give someone access</h2>
            <label>Name <input name="name" required maxlength="200"></label>
            <label>Role <select name="role">${ROLES.map((r) => html`<option value="${r}">${r}</option>`)}</select></label>
            <label>E-mail <small>(for sign-in links)</small> <input name="email" type="email" maxlength="254"></label>
            <fieldset><legend>Limited to agreements <small>(technicians, dispatchers; none ticked: all you see)</small></legend>${agreements.map((a) => html`<label class="check"><input type="checkbox" name="agreements" value="${a.id}"> ${a.name}</label>`)}</fieldset>
            <fieldset><legend>Sites <small>(a venue must have at least one)</small></legend>${agreements.flatMap((a) => a.sites).map((s) => html`<label class="check"><input type="checkbox" name="sites" value="${s.id}"> ${s.name}</label>`)}</fieldset>
            ${hidden}
            <button type="submit">Give access</button>
          </form>`
        : ''}`;
    return c.html(page({ title: 'People', actor, csrf }, body), status);
  }

  return new Hono<ConsoleEnv>()
    .get('/people', (c) => (may(c.get('actor').role, MAY.seeAccess) ? peoplePage(c, null) : notFoundPage(c)))
    .post('/people', async (c) => {
      if (!may(c.get('actor').role, MAY.issueTokens)) return notFoundPage(c);
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const list = (name: string) => [form[name]].flat().filter((v): v is string => typeof v === 'string' && v !== '');
      const [agreements, sites] = [list('agreements'), list('sites')];
      const scope = agreements.length || sites.length ? { ...(agreements.length ? { agreements } : {}), ...(sites.length ? { sites } : {}) } : undefined;
      const email = textField(form, 'email');
      const request = { role: textField(form, 'role'), name: textField(form, 'name'), ...(email ? { email } : {}), ...(scope ? { scope } : {}) };
      try {
        const issued = await issueFor(db, parseNewToken(request), c.get('scope'));
        return await peoplePage(c, { text: `${issued.name} (${issued.role}) has access. Their token:`, token: issued.token });
      } catch (error) {
        const problem = toProblem(error, c.req.path);
        if (problem.status >= 500) throw error;
        return peoplePage(c, { text: `Not given: ${problem.detail}`, error: true }, 400);
      }
    })
    .post('/people/:id/revoke', async (c) => {
      if (!may(c.get('actor').role, MAY.issueTokens)) return notFoundPage(c);
      try {
        await revokeFor(db, c.req.param('id'), c.get('scope'));
      } catch (error) {
        const problem = toProblem(error, c.req.path);
        if (problem.status === 404) return notFoundPage(c);
        if (problem.status >= 500) throw error;
        return peoplePage(c, { text: `Not revoked: ${problem.detail}`, error: true }, 400);
      }
      return c.redirect('/console/people', 303);
    })
    .post('/people/:id/sign-in-link', async (c) => {
      if (!may(c.get('actor').role, MAY.seeAccess)) return notFoundPage(c);
      const person = (await peopleVisibleTo(db, c.get('scope'))).find((p) => p.id === c.req.param('id'));
      if (!person) return notFoundPage(c);
      if (!person.email) return peoplePage(c, { text: `${person.name} has no e-mail address: give one when issuing their access.`, error: true }, 400);
      const secret = await createSignInLink(db, person.id, c.get('actor').name);
      const link = `${publicUrl ?? new URL(c.req.url).origin}/console/sign-in/link/${secret}`;
      await mailer.send({
        key: `sign-in-link:${hashToken(secret).slice(0, 24)}`,
        to: [{ name: person.name, email: person.email }],
        subject: 'Your sign-in link to Concierge',
        text: `Hello ${person.name},\n\n${c.get('actor').name} sent you a link to sign in to Concierge as ${person.role}:\n\n${link}\n\nIt works once, within ${LINK_MINUTES} minutes. If you did not expect it, ignore this message.\n`,
        html: `<p>Hello ${escape(person.name)},</p><p>${escape(c.get('actor').name)} sent you a link to sign in to Concierge as ${escape(person.role)}:</p><p><a href="${escape(link)}">Sign in to Concierge</a></p><p>It works once, within ${LINK_MINUTES} minutes. If you did not expect it, ignore this message.</p>`,
      });
      return peoplePage(c, { text: `Sent ${person.name} a sign-in link at ${person.email}; it works once, within ${LINK_MINUTES} minutes.` });
    });
}

const escape = (value: string) => value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
