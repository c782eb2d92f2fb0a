import { randomUUID } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Db } from '../db/connect.js';
import type { Role, TokenScope } from '../db/schema.js';
import { hashToken, newToken } from '../platform/secrets.js';
import type { ApiEnv } from './env.js';
import { forbidden, Problem } from './problem.js';

/** Every /api route: a bearer token, looked up by its hash. */
export function requireToken(db: Db) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('send Authorization: Bearer <token>');
    const token = await db
      .selectFrom('apiTokens')
      .select(['id', 'name', 'role', 'scope'])
      .where('tokenHash', '=', hashToken(match[1]!))
      .executeTakeFirst();
    if (!token) throw unauthorized('the token is not valid');
    c.set('actor', { id: token.id, name: token.name, role: token.role });
    c.set('scope', token.scope);
    await next();
  });
}

/** Routes that change configuration or operations are for these roles only. */
export function requireRole(...roles: Role[]) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const { role } = c.get('actor');
    if (!roles.includes(role as Role)) throw forbidden(`the ${role} role may not do this; allowed: ${roles.join(', ')}`);
    await next();
  });
}

function unauthorized(detail: string) {
  return new Problem(401, 'Unauthorized', detail);
}

/**
 * The admin (account-manager) token, known by its `bootstrap` mark. CONCIERGE_ADMIN_TOKEN, when
 * set, becomes the admin token and replaces the earlier one, so rotating it is setting a new value;
 * tokens issued to people, whatever their names, are left alone. Otherwise, on a database without
 * tokens, one is generated and returned to be shown once.
 */
export async function ensureAdminToken(db: Db, configured: string | undefined): Promise<string | null> {
  if (configured) {
    const tokenHash = hashToken(configured);
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('apiTokens').where('bootstrap', '=', true).where('tokenHash', '!=', tokenHash).execute();
      await trx
        .insertInto('apiTokens')
        .values({ id: randomUUID(), tokenHash, role: 'account-manager', name: ADMIN, bootstrap: true })
        .onConflict((oc) => oc.column('tokenHash').doNothing())
        .execute();
    });
    return null;
  }
  const existing = await db.selectFrom('apiTokens').select('id').limit(1).executeTakeFirst();
  return existing ? null : issueToken(db, 'account-manager', ADMIN, null, randomUUID(), { bootstrap: true });
}

const ADMIN = 'admin';

/** Issues a token for a role, optionally limited to some agreements or sites; returns the token, shown once. */
export async function issueToken(db: Db, role: Role, name: string, scope: TokenScope | null = null, id: string = randomUUID(), { bootstrap = false, email = null }: { bootstrap?: boolean; email?: string | null } = {}): Promise<string> {
  const token = newToken();
  await db
    .insertInto('apiTokens')
    .values({ id, tokenHash: hashToken(token), role, name, scope: scope ? JSON.stringify(scope) : null, bootstrap, email })
    .execute();
  return token;
}
