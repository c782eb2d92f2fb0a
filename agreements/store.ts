import { createHash } from 'node:crypto';
import type { Agreement } from '../contracts/agreement.js';
import { CLOSED_STATUSES } from '../contracts/incident.js';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

export class AgreementSyncError extends Error {}

export interface SyncResult {
  added: string[];
  changed: string[];
  removed: string[];
}

/**
 * Makes the database's agreements match the files: a new or changed agreement becomes a new
 * version, effective now; an agreement whose file is gone is marked removed — unless it still has
 * open incidents, in which case nothing at all changes and the reason is thrown.
 */
export async function syncAgreements(db: Db, agreements: Agreement[], now = new Date()): Promise<SyncResult> {
  return db.transaction().execute(async (trx) => {
    // Processes starting together sync one after the other; the later one finds nothing to change.
    await sql`select pg_advisory_xact_lock(hashtext('concierge:agreement-sync'))`.execute(trx);
    const latest = await trx
      .selectFrom('agreementVersions as v')
      .select(['v.agreementId', 'v.version', 'v.contentHash', 'v.removedAt'])
      .where('v.version', '=', (eb) => eb.selectFrom('agreementVersions as w').select((w) => w.fn.max('w.version').as('max')).whereRef('w.agreementId', '=', 'v.agreementId'))
      .execute();
    const byId = new Map(latest.map((row) => [row.agreementId, row]));
    const result: SyncResult = { added: [], changed: [], removed: [] };

    for (const agreement of agreements) {
      const hash = contentHash(agreement);
      const current = byId.get(agreement.id);
      if (current && !current.removedAt && current.contentHash === hash) continue;
      await trx
        .insertInto('agreementVersions')
        .values({ agreementId: agreement.id, version: (current?.version ?? 0) + 1, effectiveFrom: now, contentHash: hash, content: JSON.stringify(agreement), removedAt: null })
        .execute();
      (current && !current.removedAt ? result.changed : result.added).push(agreement.id);
    }

    const inFiles = new Set(agreements.map((a) => a.id));
    const refusals: string[] = [];
    for (const row of latest) {
      if (row.removedAt || inFiles.has(row.agreementId)) continue;
      const open = await trx.selectFrom('incidents').select('id').where('agreementId', '=', row.agreementId).where('status', 'not in', CLOSED_STATUSES).execute();
      if (open.length > 0) {
        refusals.push(`agreement ${row.agreementId} cannot be removed: it has ${open.length} open incident${open.length > 1 ? 's' : ''} (${open.map((i) => i.id).join(', ')}); resolve them or restore its file`);
        continue;
      }
      await trx.updateTable('agreementVersions').set({ removedAt: now }).where('agreementId', '=', row.agreementId).where('version', '=', row.version).execute();
      result.removed.push(row.agreementId);
    }
    if (refusals.length > 0) throw new AgreementSyncError(refusals.join('\n'));

    await trx.deleteFrom('agreementChargers').execute();
    const coverage = agreements.flatMap((a) => a.sites.flatMap((site) => site.chargers.map((c) => ({ chargerId: c.id, agreementId: a.id, siteId: site.id }))));
    if (coverage.length > 0) await trx.insertInto('agreementChargers').values(coverage).execute();
    return result;
  });
}

/** The agreements in force now (the latest version of each, unless removed), as their files say. */
export async function agreementsInForce(db: Db): Promise<Agreement[]> {
  const rows = await db
    .selectFrom('agreementVersions as v')
    .select(['v.content', 'v.removedAt'])
    .where('v.version', '=', (eb) => eb.selectFrom('agreementVersions as w').select((w) => w.fn.max('w.version').as('max')).whereRef('w.agreementId', '=', 'v.agreementId'))
    .execute();
  return rows.filter((r) => !r.removedAt).map((r) => r.content as Agreement);
}

/** An agreement's latest version (removed or not), or undefined for an agreement never synced. */
export function latestAgreementVersion(db: Db, agreementId: string) {
  return db.selectFrom('agreementVersions').select(['version', 'content', 'removedAt']).where('agreementId', '=', agreementId).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export interface AgreementInForce {
  agreement: Agreement;
  version: number;
  siteId: string;
}

/** The agreement version in force for a charger now, or null for a charger no agreement covers. */
export async function agreementForCharger(db: Db, chargerId: string): Promise<AgreementInForce | null> {
  const row = await db
    .selectFrom('agreementChargers as c')
    .innerJoin('agreementVersions as v', 'v.agreementId', 'c.agreementId')
    .select(['v.content', 'v.version', 'v.removedAt', 'c.siteId'])
    .where('c.chargerId', '=', chargerId)
    .orderBy('v.version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && !row.removedAt ? { agreement: row.content as Agreement, version: row.version, siteId: row.siteId } : null;
}

function contentHash(agreement: Agreement): string {
  return createHash('sha256').update(stableJson(agreement)).digest('hex');
}

/** JSON with object keys sorted, so the same value always hashes the same (agreements, statement inputs). */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
