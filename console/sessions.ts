import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Actor } from '../contracts/incident.js';
import type { Db } from '../db/connect.js';
import type { TokenScope } from '../db/schema.js';
import { hashToken } from '../platform/secrets.js';

/** How long a console session lasts: a working day, then sign in again. */
export const SESSION_HOURS = 12;
const COOKIE = 'concierge_session';

export interface ConsoleEnv {
  Variables: { actor: Actor; scope: TokenScope | null; csrf: string };
}

/** Behind TLS (directly, or a proxy that says so) the cookie is Secure. */
const overTls = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

/** How long an e-mailed sign-in link works. */
export const LINK_MINUTES = 60;

/**
 * Opens a session for the holder of an API token: the cookie carries a random secret (HttpOnly,
 * SameSite=Lax, Secure behind TLS), the database its hash, the token it acts for, and a CSRF token.
 * Answers false when the token is not valid.
 */
export async function signIn(c: Context, db: Db, token: string, now = new Date()): Promise<boolean> {
  const holder = await db.selectFrom('apiTokens').select('id').where('tokenHash', '=', hashToken(token.trim())).executeTakeFirst();
  if (!holder) return false;
  await openSession(c, db, holder.id, now);
  return true;
}

async function openSession(c: Context, db: Db, tokenId: string, now: Date) {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000);
  await db.insertInto('consoleSessions').values({ idHash: hashToken(secret), tokenId, csrf: randomBytes(24).toString('base64url'), expiresAt }).execute();
  // Expired sessions and links of anyone go as a new session opens: the tables hold only what may still be used.
  await db.deleteFrom('consoleSessions').where('expiresAt', '<', now).execute();
  await db.deleteFrom('consoleSignInLinks').where('expiresAt', '<', now).execute();
  setCookie(c, COOKIE, secret, { path: '/', httpOnly: true, sameSite: 'Lax', secure: overTls(c), expires: expiresAt });
}

/** A one-time sign-in link's secret for a token's holder, valid for LINK_MINUTES; only its hash is kept. */
export async function createSignInLink(db: Db, tokenId: string, sentBy: string, now = new Date()): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  await db.insertInto('consoleSignInLinks').values({ idHash: hashToken(secret), tokenId, sentBy, expiresAt: new Date(now.getTime() + LINK_MINUTES * 60_000) }).execute();
  return secret;
}

/** Whose link this is, while it is unused and unexpired (without using it): for the page that asks to confirm. */
export async function signInLinkHolder(db: Db, secret: string, now = new Date()) {
  return db
    .selectFrom('consoleSignInLinks')
    .innerJoin('apiTokens', 'apiTokens.id', 'consoleSignInLinks.tokenId')
    .select(['apiTokens.name', 'apiTokens.role'])
    .where('consoleSignInLinks.idHash', '=', hashToken(secret))
    .where('consoleSignInLinks.usedAt', 'is', null)
    .where('consoleSignInLinks.expiresAt', '>', now)
    .executeTakeFirst();
}

/** Uses a sign-in link, once: the first use opens a session, any later one (or an expired link) is refused. */
export async function signInWithLink(c: Context, db: Db, secret: string, now = new Date()): Promise<boolean> {
  const used = await db
    .updateTable('consoleSignInLinks')
    .set({ usedAt: now })
    .where('idHash', '=', hashToken(secret))
    .where('usedAt', 'is', null)
    .where('expiresAt', '>', now)
    .returning('tokenId')
    .executeTakeFirst();
  if (!used) return false;
  await openSession(c, db, used.tokenId, now);
  return true;
}

export async function signOut(c: Context, db: Db): Promise<void> {
  const secret = getCookie(c, COOKIE);
  if (secret) await db.deleteFrom('consoleSessions').where('idHash', '=', hashToken(secret)).execute();
  deleteCookie(c, COOKIE, { path: '/', secure: overTls(c) });
}

/**
 * Every console page but sign-in: a live session (else to sign-in, or 401 for htmx, which then
 * goes there), acting with its token's role and scope. Every request that changes something must
 * come from our own pages: the same origin, and the session's CSRF token in the form or header.
 */
export function requireSession(db: Db) {
  return createMiddleware<ConsoleEnv>(async (c, next) => {
    const secret = getCookie(c, COOKIE);
    const session = secret
      ? await db
          .selectFrom('consoleSessions')
          .innerJoin('apiTokens', 'apiTokens.id', 'consoleSessions.tokenId')
          .select(['apiTokens.id', 'apiTokens.name', 'apiTokens.role', 'apiTokens.scope', 'consoleSessions.csrf'])
          .where('consoleSessions.idHash', '=', hashToken(secret))
          .where('consoleSessions.expiresAt', '>', new Date())
          .executeTakeFirst()
      : undefined;
    if (!session) {
      const signInAt = `/console/sign-in?next=${encodeURIComponent(new URL(c.req.url).pathname)}`;
      if (c.req.header('hx-request')) {
        c.header('hx-redirect', signInAt);
        return c.body(null, 401);
      }
      return c.redirect(signInAt, 303);
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (!sameOrigin(c)) return c.text('This form must be sent from the Concierge console itself.', 403);
      const sent = c.req.header('x-csrf-token') ?? (await formField(c, '_csrf'));
      if (!sent || !equal(sent, session.csrf)) return c.text('The form was stale or not ours (CSRF check): reload the page and try again.', 403);
    }
    c.set('actor', { id: session.id, name: session.name, role: session.role });
    c.set('scope', session.scope);
    c.set('csrf', session.csrf);
    await next();
  });
}

/** The request's Origin (or, without one, its Referer) is this server. Browsers send Origin on every POST. */
export function sameOrigin(c: Context): boolean {
  const from = c.req.header('origin') ?? c.req.header('referer');
  if (!from) return false;
  try {
    return new URL(from).host === (c.req.header('host') ?? new URL(c.req.url).host);
  } catch {
    return false;
  }
}

async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) return undefined;
  const value = (await c.req.parseBody())[name];
  return typeof value === 'string' ? value : undefined;
}

function equal(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
