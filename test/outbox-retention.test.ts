import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../db/connect.js';
import type { RunningConcierge } from '../runtime/concierge.js';
import { eventually, startTestApp, uniqueId } from './support/app.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';

const HOUR = 3_600_000;

/** The outbox keeps delivered events for OUTBOX_RETENTION, then the relay deletes them; pending ones stay. */
describe.each(databaseKinds)('outbox retention (%s)', (kind) => {
  let dataDir: string;
  let database: TestDatabase;
  let app: RunningConcierge;
  const chargerId = uniqueId('CP');

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-retention-'));
    database = await createTestDatabase(kind, path.join(dataDir, 'pglite'));
    // Events from before this start: delivered long ago, delivered lately, and one never delivered.
    const db = openDatabase(database.target);
    await migrateToLatest(db);
    const event = (deliveredHoursAgo: number | null, createdHoursAgo: number) => ({
      chargerId,
      kind: 'status',
      payload: JSON.stringify({ note: `delivered ${deliveredHoursAgo ?? 'never'}` }),
      createdAt: new Date(Date.now() - createdHoursAgo * HOUR),
      deliveredAt: deliveredHoursAgo === null ? null : new Date(Date.now() - deliveredHoursAgo * HOUR),
      // Not due again for a day: the relay must not try to deliver the pending one during the test.
      nextAttemptAt: new Date(Date.now() + 24 * HOUR),
    });
    await db.insertInto('outbox').values([event(30, 31), event(25, 26), event(1, 2), event(null, 40)]).execute();
    await db.destroy();
    app = await startTestApp({ dataDir, database, taskQueue: uniqueId('retention'), env: { OUTBOX_RETENTION: '1d' } });
  });

  afterAll(async () => {
    await app?.stop();
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('deletes events delivered longer ago than OUTBOX_RETENTION and keeps the rest, pending ones however old', async () => {
    const left = await eventually(async () => {
      const rows = await app.db.selectFrom('outbox').select('payload').where('chargerId', '=', chargerId).orderBy('id').execute();
      return rows.length === 2 ? rows : null;
    }, 10_000, 'the relay to delete the old delivered events');
    expect(left.map((row) => row.payload)).toEqual([{ note: 'delivered 1' }, { note: 'delivered never' }]);
  });
});
