import { sql, type SelectQueryBuilder } from 'kysely';
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
