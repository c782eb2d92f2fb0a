import { describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../../db/connect.js';
import type { FaultEvent } from '../../ocpp/events.js';
import { eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds, type TestDatabase } from '../support/databases.js';

const HOUR = 3_600_000;

/** The outbox keeps delivered events for OUTBOX_RETENTION, then the relay deletes them; pending ones stay. */
describe.each(databaseKinds)('outbox retention (%s)', (kind) => {
  const chargerId = uniqueId('CP');

  // Events from before this start: delivered long ago, delivered lately, and one never delivered.
  async function eventsFromBefore(database: TestDatabase) {
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
  }
  const concierge = useTestApp({ name: 'retention', database: kind, env: { OUTBOX_RETENTION: '1d' }, beforeStart: eventsFromBefore });

  it('deletes events delivered longer ago than OUTBOX_RETENTION and keeps the rest, pending ones however old', async () => {
    const left = await eventually(async () => {
      const rows = await concierge.db.selectFrom('outbox').select('payload').where('chargerId', '=', chargerId).orderBy('id').execute();
      return rows.length === 2 ? rows : null;
    }, 10_000, 'the relay to delete the old delivered events');
    expect(left.map((row) => row.payload)).toEqual([{ note: 'delivered 1' }, { note: 'delivered never' }]);
  });
});

/** An event Temporal refuses for good is set aside (dead-lettered) so that its charger's later events still arrive. */
describe('an outbox event Temporal refuses for good', () => {
  const chargerId = uniqueId('CP');

  const concierge = useTestApp({ name: 'dead-letter' });

  const fault = (chargerId: string, connectorId: number, info: string): FaultEvent => ({
    kind: 'fault',
    chargerId,
    connectorId,
    priority: 'P2',
    fault: { eventId: `test:${connectorId}`, status: 'Faulted', errorCode: 'GroundFailure', vendorErrorCode: null, info, at: new Date().toISOString() },
  });
  const enqueue = (events: FaultEvent[]) =>
    concierge.db
      .insertInto('outbox')
      .values(events.map((event) => ({ chargerId: event.chargerId, kind: event.kind, payload: JSON.stringify(event) })))
      .returning('id')
      .execute();
  const outboxRows = (ids: string[]) => concierge.db.selectFrom('outbox').select(['attempts', 'lastError', 'deliveredAt', 'deadLetteredAt']).where('id', 'in', ids).orderBy('id').execute();

  it('sets aside a message over Temporal’s size limit after one attempt, and the charger’s next event opens its incident', async () => {
    // 3 MB of text, in the workflow input and in the signal: over the server's 4 MB for one message, however often it is sent.
    const [refused, next] = await enqueue([fault(chargerId, 1, 'x'.repeat(3 * 1024 * 1024)), fault(chargerId, 2, 'ground fault')]);
    const opened = await eventually(() => concierge.db.selectFrom('incidents').select('connectorId').where('chargerId', '=', chargerId).executeTakeFirst(), 20_000, 'the incident of the next event');
    expect(opened.connectorId).toBe(2);
    const [first, second] = await outboxRows([refused!.id, next!.id]);
    expect(first).toMatchObject({ attempts: 1, deliveredAt: null, deadLetteredAt: expect.any(Date), lastError: expect.stringContaining('larger than Temporal accepts') });
    expect(second).toMatchObject({ deliveredAt: expect.any(Date), deadLetteredAt: null });
  });

  it('sets aside an event Temporal answers INVALID_ARGUMENT (a workflow id over its length limit), and counts both on /metrics', async () => {
    const [refused] = await enqueue([fault(`CP-${'9'.repeat(1_100)}`, 1, 'ground fault')]);
    const [row] = await eventually(async () => {
      const rows = await outboxRows([refused!.id]);
      return rows[0]?.deadLetteredAt ? rows : null;
    }, 20_000, 'the event set aside');
    expect(row).toMatchObject({ attempts: 1, deliveredAt: null, lastError: expect.stringContaining('INVALID_ARGUMENT') });
    expect(await (await fetch(`${concierge.url}/metrics`)).text()).toMatch(/^concierge_outbox_dead_lettered 2$/m);
  });
});
