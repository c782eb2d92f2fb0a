import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { MAX_PHOTO_BYTES } from '../contracts/incident.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../platform/log.js';
import type { Mailer } from '../platform/mailer.js';
import { incidentPages } from './incidents.js';
import { agreementPages } from './agreements.js';
import { chargerPages } from './chargers.js';
import { peoplePages } from './people.js';
import { statementPages } from './statements.js';
import { taskPages } from './tasks.js';
import { venuePages } from './venue.js';
import { notFoundPage, page } from './layout.js';
import { createIncidentFeed } from './live.js';
import { requireSession, sameOrigin, SESSION_HOURS, signIn, signInLinkHolder, signInWithLink, signOut, type ConsoleEnv } from './sessions.js';

const require = createRequire(import.meta.url);
const FORM_LIMIT_BYTES = 64 * 1024;
/** The fix form carries photos: as many as the fix step takes, each within the photo limit. */
const FIX_LIMIT_BYTES = 20 * MAX_PHOTO_BYTES + FORM_LIMIT_BYTES;

/** Scripts, styles and everything else from this server only; no inline script or style, no framing. */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** The files the pages load, read once from the installed packages and this folder (no CDN). */
const ASSETS: Record<string, { type: string; body: string }> = {
  'htmx.min.js': { type: 'text/javascript', body: readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8') },
  'sse.js': { type: 'text/javascript', body: readFileSync(require.resolve('htmx-ext-sse/dist/sse.js'), 'utf8') },
  'console.js': { type: 'text/javascript', body: readFileSync(new URL('./assets/console.js', import.meta.url), 'utf8') },
  'favicon.svg': { type: 'image/svg+xml', body: readFileSync(new URL('./assets/favicon.svg', import.meta.url), 'utf8') },
  'console.css': { type: 'text/css', body: readFileSync(new URL('./assets/console.css', import.meta.url), 'utf8') },
};

const formLimit = bodyLimit({ maxSize: FORM_LIMIT_BYTES, onError: (c) => c.text(`A form may send at most ${FORM_LIMIT_BYTES / 1024} KB.`, 413) });

const HOME: Record<string, string> = { 'account-manager': '/console/board', dispatcher: '/console/board', technician: '/console/tasks', venue: '/console/venue' };

/**
 * The console: server-rendered pages for people, under /console, signed in with a cookie session
 * that acts with an API token's role and scope. Every page works as plain HTML forms and links;
 * htmx (served from its npm package) updates them in place.
 */
export function createConsole({ db, log, temporal, attachmentsDir, mailer, publicUrl }: { db: Db; log: Logger; temporal: Client; attachmentsDir: string; mailer: Mailer; publicUrl: string | undefined }) {
  const feed = createIncidentFeed(db, log);
  const app = new Hono<ConsoleEnv>();
  // A route that sets its own policy (a statement's HTML) keeps it; every other answer gets this one.
  app.use('*', secureHeaders({ contentSecurityPolicy: CONTENT_SECURITY_POLICY, strictTransportSecurity: false, referrerPolicy: 'same-origin', overwrite: false }));
  // Forms are small; a bigger body is refused before it is read.
  app.use('/tasks/:id/fix', bodyLimit({ maxSize: FIX_LIMIT_BYTES, onError: (c) => c.text(`The photos are too big together: at most ${FIX_LIMIT_BYTES / 1024 / 1024} MB.`, 413) }));
  app.use('*', async (c, next) => (c.req.path.endsWith('/fix') ? next() : formLimit(c, next)));
  app.get('/assets/:file', (c) => {
    const asset = ASSETS[c.req.param('file')];
    if (!asset) return c.notFound();
    c.header('cache-control', 'public, max-age=3600');
    return c.body(asset.body, 200, { 'content-type': `${asset.type}${asset.type.startsWith('text/') ? '; charset=utf-8' : ''}` });
  });
  // Pages are for the person who asked for them: never stored by a browser or a proxy.
  app.use('*', async (c, next) => {
    await next();
    if (!c.req.path.startsWith('/console/assets/')) c.header('cache-control', 'no-store');
  });

  app.get('/sign-in', (c) => c.html(signInPage(null, c.req.query('next'))));
  app.post('/sign-in', async (c) => {
    // A sign-in form posted from another site would sign the victim in as the attacker.
    if (!sameOrigin(c)) return c.text('Sign in from the Concierge console itself.', 403);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    const next = typeof form.next === 'string' ? form.next : '';
    if (!token || token.length > 200 || !(await signIn(c, db, token))) return c.html(signInPage('That token is not valid. Ask your account manager for one.', next), 401);
    return c.redirect(next.startsWith('/console/') && !next.startsWith('//') ? next : '/console', 303);
  });

  // A one-time link from an e-mail: opening it only asks to confirm (mail scanners open links too); the button uses it.
  app.get('/sign-in/link/:secret', async (c) => {
    const secret = c.req.param('secret');
    const holder = secret.length <= 100 ? await signInLinkHolder(db, secret) : undefined;
    if (!holder) return c.html(linkGonePage(), 410);
    return c.html(
      page(
        { title: 'Sign in', actor: null, csrf: null },
        html`<form class="sign-in" method="post" action="/console/sign-in/link">
          <h1>Sign in to Concierge</h1>
          <p>as <strong>${holder.name}</strong> (${holder.role})</p>
          <input type="hidden" name="secret" value="${secret}">
          <button type="submit">Sign in</button>
        </form>`,
      ),
    );
  });
  app.post('/sign-in/link', async (c) => {
    if (!sameOrigin(c)) return c.text('Sign in from the Concierge console itself.', 403);
    const form = await c.req.parseBody();
    const secret = typeof form.secret === 'string' && form.secret.length <= 100 ? form.secret : '';
    if (!secret || !(await signInWithLink(c, db, secret))) return c.html(linkGonePage(), 410);
    return c.redirect('/console', 303);
  });

  app.use('*', requireSession(db));
  app.post('/sign-out', async (c) => {
    await signOut(c, db);
    return c.redirect('/console/sign-in', 303);
  });
  app.get('/', (c) => c.redirect(HOME[c.get('actor').role] ?? '/console/board', 303));
  app.route('/', incidentPages({ db, temporal, feed, attachmentsDir }));
  app.route('/', taskPages({ db, temporal, attachmentsDir }));
  app.route('/', venuePages(db));
  app.route('/', peoplePages({ db, mailer, publicUrl }));
  app.route('/', agreementPages({ db, temporal }));
  app.route('/', chargerPages(db));
  app.route('/', statementPages(db));
  app.all('*', (c) => notFoundPage(c));
  return { app, close: feed.close };
}

function linkGonePage() {
  return page({ title: 'Link expired', actor: null, csrf: null }, html`<div class="sign-in"><h1>This link no longer works</h1><p>A sign-in link works once, and only for a while. Ask whoever sent it for a new one, or <a href="/console/sign-in">sign in with your access token</a>.</p></div>`);
}

function signInPage(error: string | null, next: string | undefined) {
  return page(
    { title: 'Sign in', actor: null, csrf: null },
    html`<form class="sign-in" method="post" action="/console/sign-in">
      <h1>Sign in to Concierge</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <label>Your access token <input name="token" type="password" autocomplete="current-password" required maxlength="200"></label>
      <input type="hidden" name="next" value="${next ?? ''}">
      <button type="submit">Sign in</button>
      <p><small>You stay signed in for ${SESSION_HOURS} hours on this browser, or until you sign out.</small></p>
    </form>`,
  );
}
