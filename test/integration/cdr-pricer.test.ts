import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadAgreements } from '../../agreements/load.js';
import { priceEndedSessions } from '../../agreements/cdrs.js';
import { syncAgreements } from '../../agreements/store.js';
import type { Db } from '../../db/connect.js';
import { databaseKinds, openTestDatabase } from '../support/databases.js';

/**
 * Pricers running at once — several workers, or the settlement's own pricing beside the worker's —
 * each take their own sessions: every session gets exactly one CDR, and the counts they return add up.
 */
describe.each(databaseKinds)('CDR pricers at once on %s', (kind) => {
  let db: Db;
  let dispose: () => Promise<void>;
  const SESSIONS = 240;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(kind));
    await syncAgreements(db, (await loadAgreements()).agreements, new Date('2026-04-01T00:00:00Z'));
    await db
      .insertInto('chargers')
      .values({ id: 'GM-LDS-02', passwordHash: 'x', siteId: 'greenmart-leeds', vendor: null, model: null, serialNumber: null, firmwareVersion: null, protocol: null, gatewayNode: null, connectedAt: null, lastSeenAt: null, bootedAt: null, state: 'active' })
      .execute();
    await sql`
      insert into sessions (charger_id, connector_id, transaction_id, id_tag, status, started_at, ended_at, meter_start_wh, meter_last_wh, meter_stop_wh, protocol)
      select 'GM-LDS-02', 1, n::text, 'CARD-1', 'ended', timestamptz '2026-05-01T08:00:00Z' + n * interval '2 hours', timestamptz '2026-05-01T09:00:00Z' + n * interval '2 hours', 0, 10000, 10000, 'ocpp1.6'
      from generate_series(1, ${SESSIONS}) n
    `.execute(db);
  });
  afterAll(async () => dispose?.());

  it('prices every session once when three background pricers and a settlement’s pricing run together', async () => {
    let taken = 0;
    const loop = async (skipLocked: boolean) => {
      for (let n; (n = await priceEndedSessions(db, { limit: 15, skipLocked })) > 0; ) taken += n;
    };
    await Promise.all([loop(true), loop(true), loop(true), loop(false)]);
    expect(taken).toBe(SESSIONS);
    const perSession = await db.selectFrom('cdrs').select((eb) => ['sessionId', eb.fn.countAll<string>().as('n')]).groupBy('sessionId').execute();
    expect(perSession).toHaveLength(SESSIONS);
    expect(perSession.every((row) => Number(row.n) === 1)).toBe(true);
    const unpriced = await db.selectFrom('sessions').select('id').where('pricedAt', 'is', null).execute();
    expect(unpriced).toEqual([]);
  });
});
