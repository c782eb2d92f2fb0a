import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectivityWorkflowId } from '../../contracts/connectivity.js';
import { CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { RawCharger } from '../../simulator/raw-charger.js';

const GRACE_MS = 2_000;

describe('connectivity: offline from the socket and pings, a watch per disconnect, reconnect races', () => {
  const concierge = useTestApp({ name: 'connectivity', env: { OFFLINE_GRACE: `${GRACE_MS}ms`, OCPP_PING_INTERVAL: '1s' }, captureHistoriesAs: 'connectivity' });
  let connection: Connection;
  let temporal: Client;
  const api = () => concierge.admin;

  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    temporal = new Client({ connection });
  });

  afterAll(async () => {
    await connection?.close();
  });

  async function connect(id = uniqueId('CP'), options = {}) {
    if (!(await concierge.db.selectFrom('chargers').select('id').where('id', '=', id).executeTakeFirst())) await concierge.registerCharger(id);
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD, ['ocpp1.6'], options);
    await eventually(async () => (await charger0(id))?.connected, 5_000, 'the charger to be recorded connected');
    return charger;
  }

  const charger0 = (id: string) => concierge.db.selectFrom('chargers').select(['connected', 'connectionId']).where('id', '=', id).executeTakeFirst();
  const eventKinds = async (id: string) =>
    (await concierge.db.selectFrom('chargerEvents').select('kind').where('chargerId', '=', id).where('kind', 'in', ['connected', 'disconnected']).orderBy('id').execute()).map((e) => e.kind);
  const incidents = async (id: string) =>
    (await api().get(`/api/incidents?chargerId=${id}`)).body as { incidents: Array<{ id: string; connectorId: number; priority: string; faults: Array<{ errorCode: string }> }> };
  const watchStatus = async (id: string) => {
    try {
      return (await temporal.workflow.getHandle(connectivityWorkflowId(id)).describe()).status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'NONE';
      throw error;
    }
  };

  it('opens an offline incident for the whole charger when it stays away past the grace period', async () => {
    const charger = await connect();
    await charger.close();
    await eventually(async () => (await charger0(charger.id))?.connected === false, 5_000, 'the disconnect');
    const { incidents: [incident] } = await eventually(async () => ((await incidents(charger.id)).incidents.length > 0 ? incidents(charger.id) : null), 15_000, 'the offline incident');
    expect(incident).toMatchObject({ connectorId: 0, priority: 'P1' });
    expect(incident!.faults[0]!.errorCode).toBe('Offline');
    expect(await eventKinds(charger.id)).toEqual(['connected', 'disconnected']);
    // The watch stays until the charger is back, then ends.
    expect(await watchStatus(charger.id)).toBe('RUNNING');
    const back = await connect(charger.id);
    await eventually(async () => (await watchStatus(charger.id)) === 'COMPLETED', 10_000, 'the watch to end');
    // Being back is the fix (often someone rebooted the router): the offline incident verifies it.
    const verifying = await eventually(async () => {
      const { body } = await api().get(`/api/incidents/${incident!.id}`);
      return body.status === 'verifying' ? body : null;
    }, 10_000, 'the offline incident to verify');
    expect(verifying.steps.find((s: { step: string }) => s.step === 'verification-started').data).toMatchObject({ fixedBy: 'back-online' });
    await back.close();
  });

  it('opens nothing when the charger is back within the grace period', async () => {
    const charger = await connect();
    await charger.close();
    await eventually(async () => (await watchStatus(charger.id)) === 'RUNNING', 5_000, 'the watch to start');
    const back = await connect(charger.id);
    await eventually(async () => (await watchStatus(charger.id)) === 'COMPLETED', 10_000, 'the watch to end');
    // Well past the grace period: still no incident and no offline fault queued.
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 1_000));
    expect((await incidents(charger.id)).incidents).toEqual([]);
    expect(await concierge.db.selectFrom('outbox').select('id').where('chargerId', '=', charger.id).where('kind', '=', 'fault').execute()).toEqual([]);
    await back.close();
  });

  it('tells a watch about a reconnect only when one was started, and forgets a watch that has ended', async () => {
    const noted = async (id: string) => (await concierge.db.selectFrom('startedWorkflows').select('generation').where('workflowId', '=', connectivityWorkflowId(id)).executeTakeFirst())?.generation;
    const delivered = (id: string) =>
      eventually(async () => (await concierge.db.selectFrom('outbox').select('id').where('chargerId', '=', id).where('deliveredAt', 'is', null).execute()).length === 0, 10_000, 'the outbox to drain');
    const charger = await connect();
    await delivered(charger.id);
    expect(await noted(charger.id)).toBeUndefined();
    await charger.close();
    await eventually(async () => (await watchStatus(charger.id)) === 'RUNNING', 5_000, 'the watch to start');
    expect(await noted(charger.id)).toBe('1');
    const back = await connect(charger.id);
    await eventually(async () => (await watchStatus(charger.id)) === 'COMPLETED', 10_000, 'the watch to end');
    // The reconnect reached the watch, so nothing told the relay it had ended.
    expect(await noted(charger.id)).toBe('1');
    // The next reconnect finds it gone and forgets it.
    const replacement = await RawCharger.connect(concierge.ws, charger.id, CHARGER_PASSWORD);
    await back.closed();
    await delivered(charger.id);
    expect(await noted(charger.id)).toBeUndefined();
    await replacement.close();
  });

  it('keeps one live socket per charger; the replaced socket closing does not mark it offline', async () => {
    const first = await connect();
    const before = await charger0(first.id);
    const second = await RawCharger.connect(concierge.ws, first.id, CHARGER_PASSWORD);
    await first.closed();
    await eventually(async () => (await charger0(first.id))?.connectionId !== before?.connectionId, 5_000, 'the new connection');
    expect((await second.call('Heartbeat', {}))[0]).toBe(3);
    expect((await charger0(first.id))?.connected).toBe(true);
    expect(await eventKinds(first.id)).toEqual(['connected', 'connected']);
    expect(await watchStatus(first.id)).toBe('NONE');
    await second.close();
  });

  it('moves last seen with any message the charger sends, written for all chargers at once', async () => {
    const charger = await connect();
    const seenAt = async () => (await concierge.db.selectFrom('chargers').select('lastSeenAt').where('id', '=', charger.id).executeTakeFirstOrThrow()).lastSeenAt!.getTime();
    const connectedAt = await seenAt();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await charger.call('Heartbeat', {});
    await eventually(async () => (await seenAt()) > connectedAt + 500, 10_000, 'last seen to move');
    await charger.close();
  });

  it('sees a dead link from unanswered WebSocket pings, heartbeats or not', async () => {
    const charger = await connect(uniqueId('DEAD'), { answerPings: false });
    await charger.closed();
    await eventually(async () => (await charger0(charger.id))?.connected === false, 10_000, 'the dead link to be noticed');
    expect(await eventKinds(charger.id)).toEqual(['connected', 'disconnected']);
  });
});
