import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { CHARGER_PASSWORD, useTestApp } from '../support/app.js';
import { RawCharger } from '../../simulator/raw-charger.js';

/** What a sloppy or hostile charger can send: each gets the answer OCPP-J prescribes, and nobody else notices. */
describe('OCPP bad input', () => {

  const concierge = useTestApp({ name: 'badinput' });

  async function connect() {
    const id = await concierge.registerCharger();
    return RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD);
  }

  it('survives a handshake whose charger id is not valid percent-encoding, and serves the next charger', async () => {
    const socket = new WebSocket(`${concierge.ws}/ocpp/%E0%A4%A`, ['ocpp1.6'], { headers: { authorization: `Basic ${Buffer.from(`x:${CHARGER_PASSWORD}`).toString('base64')}` } });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('open', () => resolve('open'));
      socket.once('error', () => resolve('refused'));
      socket.once('unexpected-response', () => resolve('refused'));
    });
    expect(outcome).toBe('refused');
    const charger = await connect();
    expect((await charger.call('Heartbeat', {}))[0]).toBe(3);
    await charger.close();
  });

  it('refuses a status report the database cannot store, alone: reports of other chargers sent with it are kept', async () => {
    const chargers = await Promise.all([connect(), connect(), connect()]);
    // Every value a charger can send is bounded before it is stored (test/e2e/ocpp-boundaries.test.ts), so the
    // database refuses this one for its own reason: the charger's row was deleted while it was connected.
    await concierge.db.deleteFrom('chargers').where('id', '=', chargers[1]!.id).execute();
    const answers = await Promise.all(chargers.map((c) => c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' })));
    expect(answers.map((a) => a[0])).toEqual([3, 4, 3]);
    // OCPP-J's InternalError with its standard text: nothing of the database's own message reaches the charger.
    expect(answers[1]).toEqual([4, expect.any(String), 'InternalError', 'An internal error occurred and the receiver was not able to process the requested method successfully', {}]);
    const logged = await concierge.db.selectFrom('statusLog').select('chargerId').where('chargerId', 'in', chargers.map((c) => c.id)).execute();
    expect(logged.map((r) => r.chargerId).sort()).toEqual([chargers[0]!.id, chargers[2]!.id].sort());
    // The refused charger's socket is still served.
    expect((await chargers[1]!.call('Heartbeat', {}))[0]).toBe(3);
    await Promise.all(chargers.map((c) => c.close()));
  });

  it('refuses a status report with a connector id beyond the database column with PropertyConstraintViolation, and keeps it', async () => {
    const charger = await connect();
    const report = { connectorId: 2 ** 31, errorCode: 'NoError', status: 'Available' };
    expect(await charger.call('StatusNotification', report)).toEqual([4, expect.any(String), 'PropertyConstraintViolation', expect.stringContaining('connectorId'), {}]);
    const frames = await concierge.db.selectFrom('rejectedFrames').select(['method', 'payload']).where('chargerId', '=', charger.id).execute();
    expect(frames).toEqual([{ method: 'StatusNotification', payload: report }]);
    expect((await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }))[0]).toBe(3);
    await charger.close();
  });

  it('answers an unknown action with NotImplemented and stays connected', async () => {
    const charger = await connect();
    expect(await charger.call('MakeCoffee', {})).toEqual([4, expect.any(String), 'NotImplemented', expect.any(String), {}]);
    expect((await charger.call('Heartbeat', {}))[0]).toBe(3);
    await charger.close();
  });

  it('answers a wrong message-type id and non-array frames with a CALLERROR and stays connected', async () => {
    const charger = await connect();
    charger.sendRaw('[7, "w1", "Heartbeat", {}]');
    // OCPP 2.0.1-J §4.4 would echo "w1"; ocpp-rpc 2.2.1 rejects before reading the id and answers "-1".
    expect(await charger.nextFrame()).toEqual([4, '-1', 'MessageTypeNotSupported', 'Unrecognised message type', {}]);
    charger.sendRaw('{"not": "an array"}');
    expect((await charger.nextFrame())[0]).toBe(4);
    charger.sendRaw('"just a string"');
    expect((await charger.nextFrame())[0]).toBe(4);
    expect(charger.isOpen).toBe(true);
    expect((await charger.call('Heartbeat', {}))[0]).toBe(3);
    await charger.close();
  });

  it('closes the socket of a charger that sends an oversized frame (1009), and only that one', async () => {
    const bystander = await connect();
    const id = await concierge.registerCharger();
    const socket = new WebSocket(`${concierge.ws}/ocpp/${id}`, ['ocpp1.6'], { headers: { authorization: `Basic ${Buffer.from(`${id}:${CHARGER_PASSWORD}`).toString('base64')}` } });
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'x', data: 'x'.repeat(100_000) }]));
    expect(await closed).toBe(1009);
    expect((await bystander.call('Heartbeat', {}))[0]).toBe(3);
    await bystander.close();
  });

  it('answers every message of a flood from one charger while another is still served', async () => {
    const flooder = await connect();
    const bystander = await connect();
    const flood = Array.from({ length: 500 }, (_, i) => flooder.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: i % 2 ? 'Available' : 'Preparing' }));
    expect((await bystander.call('Heartbeat', {}))[0]).toBe(3);
    const answers = await Promise.all(flood);
    expect(answers.every((frame) => frame[0] === 3)).toBe(true);
    const logged = await concierge.db.selectFrom('statusLog').select((eb) => eb.fn.countAll<string>().as('n')).where('chargerId', '=', flooder.id).executeTakeFirstOrThrow();
    expect(Number(logged.n)).toBe(500);
    await flooder.close();
    await bystander.close();
  });
});
