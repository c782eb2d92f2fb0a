import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connect.js';
import { createBootRecorder } from '../../ocpp/boots.js';
import { createConnectionRecorder } from '../../ocpp/connections.js';
import { createGateway } from '../../ocpp/gateway.js';
import { createLogger } from '../../platform/log.js';
import { databaseKinds, openTestDatabase } from '../support/databases.js';

/** More than one slice of the gateway's set-based marking (500 chargers a transaction). */
const HELD = 1_201;

describe.each(databaseKinds)('a gateway that starts or stops, on %s', (kind) => {
  let db: Db;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(kind));
  });

  afterAll(async () => {
    await dispose?.();
  });

  it('marks every charger it held disconnected, each with its event and watch, and leaves other gateways’ chargers alone', { timeout: 60_000 }, async () => {
    const held = Array.from({ length: HELD }, (_, i) => ({ id: `HELD-${i}`, passwordHash: 'x', connected: true, gatewayNode: 'gw-1', connectionId: `conn-${i}` }));
    const elsewhere = [
      { id: 'ELSEWHERE-1', passwordHash: 'x', connected: true, gatewayNode: 'gw-2', connectionId: 'conn-e1' },
      { id: 'GONE-1', passwordHash: 'x', connected: false, gatewayNode: 'gw-1', connectionId: 'conn-g1' },
    ];
    for (let i = 0; i < held.length; i += 500) await db.insertInto('chargers').values(held.slice(i, i + 500)).execute();
    await db.insertInto('chargers').values(elsewhere).execute();
    let kicks = 0;
    const gateway = createGateway({ db, log: createLogger('silent'), node: 'gw-1', heartbeatIntervalSeconds: 300, outboxChanged: () => kicks++ });

    await gateway.forgetPreviousConnections();

    const chargers = await db.selectFrom('chargers').select(['id', 'connected']).execute();
    const connected = new Map(chargers.map((c) => [c.id, c.connected]));
    expect(held.filter((c) => connected.get(c.id) !== false)).toEqual([]);
    expect(connected.get('ELSEWHERE-1')).toBe(true);

    const events = await db.selectFrom('chargerEvents').select(['chargerId', 'kind', 'data']).execute();
    expect(events).toHaveLength(HELD);
    expect(events.find((e) => e.chargerId === 'HELD-7')).toMatchObject({ kind: 'disconnected', data: { connectionId: 'conn-7', node: 'gw-1', reason: 'gateway restarted or stopped' } });
    const outbox = await db.selectFrom('outbox').select(['chargerId', 'kind', 'payload']).execute();
    expect(outbox).toHaveLength(HELD);
    expect(new Set(outbox.map((o) => o.chargerId))).toEqual(new Set(held.map((c) => c.id)));
    expect(outbox.find((o) => o.chargerId === 'HELD-1200')).toMatchObject({ kind: 'disconnected', payload: { kind: 'disconnected', chargerId: 'HELD-1200', connectionId: 'conn-1200' } });
    expect(kicks).toBeGreaterThan(0);

    // Done once: a second start finds nothing left to mark.
    await gateway.forgetPreviousConnections();
    expect(await db.selectFrom('outbox').select('id').execute()).toHaveLength(HELD);
    await gateway.close();
  });

  it('records a storm of connects and disconnects charger by charger, and no stale disconnect', { timeout: 60_000 }, async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `STORM-${i}`);
    await db.insertInto('chargers').values(ids.map((id) => ({ id, passwordHash: 'x' }))).execute();
    let kicks = 0;
    const connections = createConnectionRecorder(db, 'gw-3', () => kicks++);
    const rowsOf = () => db.selectFrom('chargers').select(['id', 'connected', 'gatewayNode', 'connectionId']).where('id', 'like', 'STORM-%').execute();
    const kindsOf = async (id: string) => (await db.selectFrom('outbox').select('payload').where('chargerId', '=', id).orderBy('id').execute()).map((r) => (r.payload as { kind: string; connectionId: string }));

    // All at once, and STORM-0 twice: its second connection is the one it holds.
    await Promise.all([...ids.map((id) => connections.connected(id, `${id}-a`, 'ocpp1.6')), connections.connected('STORM-0', 'STORM-0-b', 'ocpp2.0.1')]);
    const connected = await rowsOf();
    expect(connected.filter((r) => !r.connected || r.gatewayNode !== 'gw-3')).toEqual([]);
    expect(connected.find((r) => r.id === 'STORM-0')?.connectionId).toBe('STORM-0-b');
    expect(connected.find((r) => r.id === 'STORM-299')?.connectionId).toBe('STORM-299-a');
    expect(await kindsOf('STORM-0')).toEqual([expect.objectContaining({ kind: 'connected', connectionId: 'STORM-0-a' }), expect.objectContaining({ kind: 'connected', connectionId: 'STORM-0-b' })]);

    // All drop at once; STORM-0's first socket closing late is no disconnect.
    await Promise.all([...ids.map((id) => connections.disconnected(id, id === 'STORM-0' ? 'STORM-0-b' : `${id}-a`, { code: 1006 })), connections.disconnected('STORM-0', 'STORM-0-a', { code: 1000 })]);
    expect((await rowsOf()).filter((r) => r.connected)).toEqual([]);
    expect(await kindsOf('STORM-0')).toEqual([
      expect.objectContaining({ kind: 'connected', connectionId: 'STORM-0-a' }),
      expect.objectContaining({ kind: 'connected', connectionId: 'STORM-0-b' }),
      expect.objectContaining({ kind: 'disconnected', connectionId: 'STORM-0-b' }),
    ]);
    expect(await kindsOf('STORM-150')).toEqual([expect.objectContaining({ kind: 'connected' }), expect.objectContaining({ kind: 'disconnected', connectionId: 'STORM-150-a' })]);
    const logged = await db.selectFrom('chargerEvents').select('data').where('chargerId', '=', 'STORM-150').where('kind', '=', 'disconnected').execute();
    expect(logged).toEqual([{ data: { connectionId: 'STORM-150-a', node: 'gw-3', code: 1006 } }]);
    expect(kicks).toBeGreaterThan(0);
  });

  it('answers each boot of a batch with the state of its own charger, and records what each said', async () => {
    await db
      .insertInto('chargers')
      .values([
        { id: 'BOOT-ACTIVE', passwordHash: 'x', state: 'active' },
        { id: 'BOOT-PENDING', passwordHash: 'x', state: 'pending' },
      ])
      .execute();
    const boots = createBootRecorder(db);
    const boot = (vendor: string) => ({ vendor, model: 'Terra AC', serialNumber: `SN-${vendor}`, firmwareVersion: '1.0' });
    const states = await Promise.all([
      boots.record('BOOT-ACTIVE', boot('ABB')),
      boots.record('BOOT-PENDING', boot('Alfen')),
      boots.record('BOOT-UNKNOWN', boot('Nobody')),
      boots.record('BOOT-ACTIVE', boot('ABB-2')),
    ]);
    expect(states).toEqual(['active', 'pending', null, 'active']);
    const rows = await db.selectFrom('chargers').select(['id', 'vendor', 'serialNumber', 'bootedAt']).where('id', 'like', 'BOOT-%').orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'BOOT-ACTIVE', vendor: 'ABB-2', serialNumber: 'SN-ABB-2', bootedAt: expect.any(Date) },
      { id: 'BOOT-PENDING', vendor: 'Alfen', serialNumber: 'SN-Alfen', bootedAt: expect.any(Date) },
    ]);
  });
});
