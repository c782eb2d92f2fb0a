import { sql, type SelectQueryBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Database, TokenScope } from '../db/schema.js';
import type { Actor } from '../contracts/incident.js';

/**
 * What a caller may see of incidents and tasks. A venue sees only its own sites (a venue token
 * without sites sees nothing); a technician sees the agreements they serve when their token names
 * them; dispatchers and account managers see everything unless their token is limited. Whatever
 * is outside is treated as not there (404), so ids of other venues' incidents reveal nothing.
 */
export function scoped<T extends 'incidents' | 'tasks', O>(query: SelectQueryBuilder<Database, T, O>, table: T, actor: Actor, scope: TokenScope | null): SelectQueryBuilder<Database, T, O> {
  if (actor.role === 'venue' && !scope?.sites?.length) return query.where(sql<boolean>`false`);
  if (scope?.sites?.length) query = query.where(sql.ref<string>(`${table}.siteId`), 'in', scope.sites);
  if (scope?.agreements?.length) query = query.where(sql.ref<string>(`${table}.agreementId`), 'in', scope.agreements);
  return query;
}

/** Whether a caller may see (and, by role, act on) a charger: by the agreement and site that cover it. */
export async function chargerInScope(db: Db, chargerId: string, actor: Actor, scope: TokenScope | null): Promise<boolean> {
  if (actor.role === 'venue' && !scope?.sites?.length) return false;
  if (!scope?.sites?.length && !scope?.agreements?.length) return true;
  const covered = await db.selectFrom('agreementChargers').select(['agreementId', 'siteId']).where('chargerId', '=', chargerId).executeTakeFirst();
  if (!covered) return false;
  if (scope.sites?.length && !scope.sites.includes(covered.siteId)) return false;
  if (scope.agreements?.length && !scope.agreements.includes(covered.agreementId)) return false;
  return true;
}

/**
 * Whether a token holder is within the caller's view (GET /api/tokens): a scoped caller sees only
 * tokens limited to its own agreements and sites; a token limited to sites counts as within the
 * agreements those sites belong to (`siteAgreement`: site → agreement).
 */
export function tokenVisibleTo(token: TokenScope | null, caller: TokenScope | null, siteAgreement: ReadonlyMap<string, string>): boolean {
  if (scopeWithin(token, caller)) return true;
  if (caller?.sites?.length || !caller?.agreements?.length || token?.agreements?.length || !token?.sites?.length) return false;
  return token.sites.every((site) => caller.agreements!.includes(siteAgreement.get(site) ?? ''));
}

/** A token a caller issues can see no more than the caller: within each limit the caller has. */
export function scopeWithin(issued: TokenScope | null, caller: TokenScope | null): boolean {
  const within = (mine: string[] | undefined, theirs: string[] | undefined) => !mine?.length || (!!theirs?.length && theirs.every((x) => mine.includes(x)));
  return within(caller?.agreements, issued?.agreements ?? undefined) && within(caller?.sites, issued?.sites ?? undefined);
}
