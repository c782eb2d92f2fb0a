import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { issueToken, requireRole } from './auth.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { conflict, forbidden, invalidRequest, notFound, problemResponses } from './problem.js';
import { scopeWithin, tokenVisibleTo } from './scope.js';
import { MAY, ROLES, STAFF } from '../contracts/roles.js';
import { text } from '../contracts/storable-text.js';
import { agreementsInForce } from '../agreements/store.js';
import type { Db } from '../db/connect.js';
import type { TokenScope } from '../db/schema.js';

const Ids = (description: string) => z.array(text().min(1).max(100)).min(1).max(100).openapi({ description });

const ScopeFields = z.object({
  agreements: Ids('the agreements a technician or dispatcher serves').optional(),
  sites: Ids('a venue’s sites (required for venue tokens)').optional(),
});
const Scope = ScopeFields.openapi('TokenScope');

const Name = text().min(1).max(200);
const Email = z.email().max(254).openapi({ description: 'where the holder receives one-time sign-in links to the console' });

/** A venue token must name its sites; staff tokens may be limited, or not. */
const NewToken = z
  .discriminatedUnion('role', [
    z.object({ role: z.enum(STAFF), name: Name, email: Email.optional(), scope: Scope.optional() }),
    z.object({ role: z.literal('venue'), name: Name, email: Email.optional(), scope: Scope.extend({ sites: Ids('the venue’s sites') }) }),
  ])
  .openapi('NewToken');

// The scope of an unlimited token is null: said here, not in TokenScope, which a request may not set to null.
const TokenInfo = z.object({ id: z.string(), role: z.string(), name: z.string(), email: z.string().nullable(), scope: ScopeFields.nullable() }).openapi('TokenInfo');

const issue = createRoute({
  method: 'post',
  path: '/',
  summary: 'Issue an API token for a person: its id is their actor id (e.g. to assign a technician); the token is shown once',
  middleware: [requireRole(...MAY.issueTokens)] as const,
  request: { body: { required: true, content: { 'application/json': { schema: NewToken } } } },
  responses: {
    201: { description: 'the token', content: { 'application/json': { schema: TokenInfo.extend({ token: z.string() }) } } },
    ...problemResponses(400, 401, 403),
  },
});

const revoke = createRoute({
  method: 'delete',
  path: '/{id}',
  summary: 'Revoke a token: it stops working at once; only tokens within your own scope (the bootstrap admin token is changed through CONCIERGE_ADMIN_TOKEN)',
  middleware: [requireRole(...MAY.issueTokens)] as const,
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    204: { description: 'revoked' },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

const people = createRoute({
  method: 'get',
  path: '/',
  summary: 'Who holds tokens (no secrets): e.g. the technicians a dispatcher can assign; a scoped caller sees only holders within its own scope',
  middleware: [requireRole(...MAY.seeAccess)] as const,
  request: { query: z.object({ role: z.enum(ROLES).optional() }) },
  responses: {
    200: { description: 'token holders', content: { 'application/json': { schema: z.object({ tokens: z.array(TokenInfo) }) } } },
    ...problemResponses(401, 403),
  },
});

/** A scope names agreements and sites that exist: a typo would otherwise give a token that silently sees nothing. */
async function refuseUnknownScope(db: Db, scope: TokenScope | undefined) {
  if (!scope) return;
  const agreements = await agreementsInForce(db);
  const agreementIds = new Set(agreements.map((a) => a.id));
  const siteIds = new Set(agreements.flatMap((a) => a.sites.map((s) => s.id)));
  const issues = [
    ...(scope.agreements ?? []).flatMap((id, i) => (agreementIds.has(id) ? [] : [{ path: ['scope', 'agreements', i], message: `no agreement "${id}" is in force; known: ${[...agreementIds].join(', ') || 'none'}` }])),
    ...(scope.sites ?? []).flatMap((id, i) => (siteIds.has(id) ? [] : [{ path: ['scope', 'sites', i], message: `no agreement in force has a site "${id}"; known: ${[...siteIds].join(', ') || 'none'}` }])),
  ];
  if (issues.length > 0) throw invalidRequest(issues, 'body');
}

export function tokenRoutes({ db }: ApiDeps) {
  return new OpenAPIHono<ApiEnv>()
    .openapi(issue, async (c) => {
      return c.json(await issueFor(db, c.req.valid('json'), c.get('scope')), 201);
    })
    .openapi(revoke, async (c) => {
      await revokeFor(db, c.req.valid('param').id, c.get('scope'));
      return c.body(null, 204);
    })
    .openapi(people, async (c) => {
      return c.json({ tokens: await peopleVisibleTo(db, c.get('scope'), c.req.valid('query').role) }, 200);
    });
}

export type NewTokenRequest = z.infer<typeof NewToken>;

/** A request for a token checked as the API checks its body (for the console's form): a 400 Problem naming each field otherwise. */
export function parseNewToken(input: unknown): NewTokenRequest {
  const parsed = NewToken.safeParse(input);
  if (!parsed.success) throw invalidRequest(parsed.error.issues, 'form');
  return parsed.data;
}

/** Issues a token as the caller may: a scope within the caller's own, naming agreements and sites in force. The token is in the answer, once. */
export async function issueFor(db: Db, body: NewTokenRequest, caller: TokenScope | null) {
  if (!scopeWithin(body.scope ?? null, caller)) throw forbidden('a token you issue may see no more than yours: give it a scope within your own');
  await refuseUnknownScope(db, body.scope);
  const id = randomUUID();
  const token = await issueToken(db, body.role, body.name, body.scope ?? null, id, { email: body.email ?? null });
  return { id, role: body.role, name: body.name, email: body.email ?? null, scope: body.scope ?? null, token };
}

/** Revokes a token within the caller's scope (outside it: 404, like an unknown id); the bootstrap token is changed by configuration only (409). */
export async function revokeFor(db: Db, id: string, caller: TokenScope | null): Promise<void> {
  const token = await db.selectFrom('apiTokens').select(['id', 'scope', 'bootstrap']).where('id', '=', id).executeTakeFirst();
  if (!token || !scopeWithin(token.scope, caller)) throw notFound('token');
  if (token.bootstrap) throw conflict('the bootstrap admin token is set by CONCIERGE_ADMIN_TOKEN: change it there and restart to replace it');
  await db.deleteFrom('apiTokens').where('id', '=', id).execute();
}

/** The token holders a caller may see (no secrets), by name: everyone for an unlimited caller, else those within its scope. */
export async function peopleVisibleTo(db: Db, caller: TokenScope | null, role?: string) {
  let query = db.selectFrom('apiTokens').select(['id', 'role', 'name', 'email', 'scope']).orderBy('name').orderBy('id');
  if (role) query = query.where('role', '=', role as never);
  const tokens = await query.execute();
  if (!caller) return tokens;
  const sites = await db.selectFrom('agreementChargers').select(['siteId', 'agreementId']).distinct().execute();
  const siteAgreement = new Map(sites.map((s) => [s.siteId, s.agreementId]));
  return tokens.filter((t) => tokenVisibleTo(t.scope, caller, siteAgreement));
}
