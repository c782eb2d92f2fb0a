import type { Context } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { DateTime } from 'luxon';
import type { Actor } from '../contracts/incident.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * htmx, configured for the policy (no inline styles, no eval) and for forms: a refusal (422) is
 * shown in the form's status line like a success, other errors are not swapped in.
 */
const HTMX_CONFIG = {
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true, error: false },
    { code: '[45]..', swap: false, error: true },
  ],
};

/** The pages each role has, in the order the navigation shows them. */
const NAVIGATION: Array<{ href: string; label: string; roles: readonly string[] }> = [
  { href: '/console/board', label: 'Board', roles: ['account-manager', 'dispatcher', 'technician'] },
  { href: '/console/tasks', label: 'Tasks', roles: ['account-manager', 'dispatcher', 'technician'] },
  { href: '/console/venue', label: 'Your chargers', roles: ['venue'] },
  { href: '/console/agreements', label: 'Agreements', roles: ['account-manager'] },
  { href: '/console/statements', label: 'Statements', roles: ['account-manager'] },
  { href: '/console/people', label: 'People', roles: ['account-manager', 'dispatcher'] },
];

/**
 * A console page: our own stylesheet and scripts only (htmx and its SSE extension from their npm
 * packages), the CSRF token in every htmx request's headers, the signed-in person and sign-out.
 */
export function page({ title, actor, csrf }: { title: string; actor: Actor | null; csrf: string | null }, body: Html) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="htmx-config" content='${JSON.stringify(HTMX_CONFIG)}'>
    <title>${title} · Concierge</title>
    <link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/console/assets/console.css">
    <script src="/console/assets/htmx.min.js" defer></script>
    <script src="/console/assets/sse.js" defer></script>
    <script src="/console/assets/console.js" defer></script>
  </head>
  <body${csrf ? html` hx-headers='${JSON.stringify({ 'X-CSRF-Token': csrf })}'` : ''}>
    <header class="top">
      <a class="brand" href="/console">Concierge</a>
      ${actor
        ? html`<nav aria-label="Console">${NAVIGATION.filter((n) => n.roles.includes(actor.role)).map((n) => html`<a href="${n.href}">${n.label}</a>`)}</nav>
            <form class="who" method="post" action="/console/sign-out">
              <span>${actor.name} <small>(${actor.role})</small></span>
              <input type="hidden" name="_csrf" value="${csrf ?? ''}">
              <button type="submit">Sign out</button>
            </form>`
        : ''}
    </header>
    <main id="main">${body}</main>
  </body>
</html>`;
}

/** The console's 404: the same answer for what does not exist and what the viewer may not see. */
export function notFoundPage(c: Context) {
  return c.html(page({ title: 'Not found', actor: null, csrf: null }, html`<h1>Not found</h1><p><a href="/console">Back to the console</a></p>`), 404);
}

/** A time as the site's people read it: in the site's zone, and the zone named. */
export function siteTime(iso: string | null, zone: string | null) {
  if (!iso) return html`—`;
  const at = DateTime.fromISO(iso, { zone: zone ?? 'UTC' });
  return html`<time datetime="${iso}" title="${zone ?? 'UTC'}">${at.toFormat('ccc d LLL HH:mm')} <small>${at.toFormat('ZZZZ', { locale: 'en-GB' })}</small></time>`;
}

/** A duration as a dispatcher reads it: 2 d 4 h, 3 h 05 m, 12 m. */
export function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} m`;
  return `${m} m`;
}
