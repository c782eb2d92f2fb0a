import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agreement } from '../../contracts/agreement.js';
import type { Db } from '../../db/connect.js';
import { agreementForCharger, AgreementSyncError, syncAgreements } from '../../agreements/store.js';
import { loadAgreements } from '../../agreements/load.js';
import { databaseKinds, openTestDatabase } from '../support/databases.js';

describe.each(databaseKinds)('agreement versions on %s', (kind) => {
  let db: Db;
  let dispose: () => Promise<void>;
  let agreements: Agreement[];

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(kind));
    ({ agreements } = await loadAgreements());
  });
  afterAll(() => dispose?.());

  const versions = (id: string) => db.selectFrom('agreementVersions').select(['version', 'removedAt']).where('agreementId', '=', id).orderBy('version').execute();
  const hotel = () => agreements.find((a) => a.id === 'hotel-alpina')!;

  it('stores each agreement once, and again only when it changes, effective from the sync', async () => {
    expect(await syncAgreements(db, agreements, new Date('2026-01-01T00:00:00Z'))).toEqual({ added: ['greenmart-retail', 'harbour-estates', 'hotel-alpina'], changed: [], removed: [] });
    expect(await syncAgreements(db, agreements)).toEqual({ added: [], changed: [], removed: [] });

    const changed = { ...hotel(), sla: { ...hotel().sla, verificationWindow: '45m' } };
    const others = agreements.filter((a) => a.id !== 'hotel-alpina');
    expect(await syncAgreements(db, [...others, changed], new Date('2026-02-01T00:00:00Z'))).toEqual({ added: [], changed: ['hotel-alpina'], removed: [] });
    const stored = await db.selectFrom('agreementVersions').select(['version', 'effectiveFrom']).where('agreementId', '=', 'hotel-alpina').orderBy('version').execute();
    expect(stored.map((v) => [v.version, v.effectiveFrom.toISOString()])).toEqual([
      [1, '2026-01-01T00:00:00.000Z'],
      [2, '2026-02-01T00:00:00.000Z'],
    ]);
    const inForce = await agreementForCharger(db, 'ALPINA-02');
    expect(inForce).toMatchObject({ version: 2, siteId: 'alpina-kitzbuehel', agreement: { sla: { verificationWindow: '45m' } } });
    expect(await agreementForCharger(db, 'NOT-COVERED')).toBeNull();
  });

  it('refuses to remove an agreement with open incidents, changing nothing, and removes it once they are resolved', async () => {
    await syncAgreements(db, agreements);
    await db
      .insertInto('incidents')
      .values({
        id: 'inc-open-1',
        workflowId: 'incident:GM-LDS-01:1',
        runId: 'r1',
        chargerId: 'GM-LDS-01',
        connectorId: 1,
        status: 'opened',
        priority: 'P2',
        openedAt: new Date(),
        respondBy: new Date(),
        fixBy: new Date(),
        responseBreached: false,
        fixBreached: false,
        revision: 1,
        updatedAt: new Date(),
        agreementId: 'greenmart-retail',
        agreementVersion: 1,
      })
      .execute();
    const withoutGreenmart = agreements.filter((a) => a.id !== 'greenmart-retail');
    const changedHotel = { ...hotel(), name: 'Hotel Alpina (renamed)' };
    const attempt = syncAgreements(db, [...withoutGreenmart.filter((a) => a.id !== 'hotel-alpina'), changedHotel]);
    await expect(attempt).rejects.toThrow(AgreementSyncError);
    await expect(attempt).rejects.toThrow('agreement greenmart-retail cannot be removed: it has 1 open incident (inc-open-1); resolve them or restore its file');
    // Nothing changed: not the removal, not the hotel's new version, not the charger coverage.
    expect((await versions('greenmart-retail')).at(-1)?.removedAt).toBeNull();
    expect((await versions('hotel-alpina')).length).toBe(3);
    expect(await agreementForCharger(db, 'GM-LDS-01')).not.toBeNull();

    await db.updateTable('incidents').set({ status: 'resolved' }).where('id', '=', 'inc-open-1').execute();
    expect((await syncAgreements(db, withoutGreenmart)).removed).toEqual(['greenmart-retail']);
    expect(await agreementForCharger(db, 'GM-LDS-01')).toBeNull();
    // Restoring the file brings it back as a new version.
    expect((await syncAgreements(db, agreements)).added).toEqual(['greenmart-retail']);
    expect((await versions('greenmart-retail')).map((v) => v.version)).toEqual([1, 2]);
  });
});
