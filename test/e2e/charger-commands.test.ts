import { describe, expect, it } from 'vitest';
import { issueToken } from '../../api/auth.js';
import { CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { RawCharger } from '../../simulator/raw-charger.js';

describe('charger commands through the API, run on the gateway that holds the socket', () => {
  const concierge = useTestApp({ name: 'commands', env: { OCPP_COMMAND_TIMEOUT: '2s' } });
  const api = () => concierge.admin;

  async function connect(protocol: 'ocpp1.6' | 'ocpp2.0.1' = 'ocpp1.6') {
    const id = await concierge.registerCharger(uniqueId('CMD'));
    const charger = await RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD, [protocol]);
    await charger.call('Heartbeat', {}); // connected and recorded once a call has been answered
    return charger;
  }

  it("sends a 1.6 Reset and returns the charger's answer; the command is in the event log", async () => {
    const charger = await connect();
    const sent = api().post(`/api/chargers/${charger.id}/commands/Reset`, { type: 'Soft' });
    const call = await charger.nextFrame();
    expect(call.slice(0, 4)).toEqual([2, expect.any(String), 'Reset', { type: 'Soft' }]);
    charger.answer(call, { status: 'Accepted' });
    const response = await sent;
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ chargerId: charger.id, command: 'Reset', protocol: 'ocpp1.6', response: { status: 'Accepted' } });
    const logged = await concierge.db.selectFrom('chargerEvents').select('data').where('chargerId', '=', charger.id).where('kind', '=', 'command').execute();
    expect(logged.map((e) => e.data)).toEqual([{ command: 'Reset', params: { type: 'Soft' }, response: { status: 'Accepted' } }]);
    await charger.close();
  });

  it('sends 2.0.1 SetVariables in its own words', async () => {
    const charger = await connect('ocpp2.0.1');
    const params = { setVariableData: [{ attributeValue: '60', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] };
    const sent = api().post(`/api/chargers/${charger.id}/commands/SetVariables`, params);
    const call = await charger.nextFrame();
    expect(call[2]).toBe('SetVariables');
    charger.answer(call, { setVariableResult: [{ attributeStatus: 'Accepted', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] });
    const response = await sent;
    expect(response.status).toBe(200);
    expect(response.body.response.setVariableResult[0].attributeStatus).toBe('Accepted');
    await charger.close();
  });

  it('refuses a command the protocol lacks or invalid params with 400, before anything is sent', async () => {
    const charger = await connect();
    const wrongVersion = await api().post(`/api/chargers/${charger.id}/commands/SetVariables`, { setVariableData: [] });
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.contentType).toContain('application/problem+json');
    expect(wrongVersion.body.detail).toContain('SetVariables is not a ocpp1.6 command');
    const badParams = await api().post(`/api/chargers/${charger.id}/commands/Reset`, { type: 'Sideways' });
    expect(badParams.status).toBe(400);
    expect(badParams.body.detail).toBe('invalid Reset request for ocpp1.6: type must be equal to one of the allowed values: Hard, Soft');
    // Nothing reached the charger: the next frame it sees is the answer to its own call.
    expect((await charger.call('Heartbeat', {}))[0]).toBe(3);
    await charger.close();
  });

  it('answers 409 ChargerOffline for a charger that is not connected, 404 for an unknown one', async () => {
    const charger = await connect();
    await charger.close();
    await eventually(async () => (await concierge.db.selectFrom('chargers').select('connected').where('id', '=', charger.id).executeTakeFirst())?.connected === false, 5_000, 'the disconnect');
    const offline = await api().post(`/api/chargers/${charger.id}/commands/Reset`, { type: 'Hard' });
    expect(offline.status).toBe(409);
    expect(offline.body).toMatchObject({ reason: 'ChargerOffline' });
    expect((await api().post(`/api/chargers/${uniqueId('NOPE')}/commands/Reset`, { type: 'Hard' })).status).toBe(404);
  });

  it('answers 502 when the charger refuses with a CALLERROR and 504 when it does not answer', async () => {
    const charger = await connect();
    const refused = api().post(`/api/chargers/${charger.id}/commands/UnlockConnector`, { connectorId: 1 });
    charger.answer(await charger.nextFrame(), null, 'NotSupported');
    const refusedResponse = await refused;
    expect(refusedResponse.status).toBe(502);
    expect(refusedResponse.body).toMatchObject({ reason: 'CommandRejected' });
    expect(refusedResponse.body.detail).toContain('NotSupported');

    const silent = await api().post(`/api/chargers/${charger.id}/commands/ChangeAvailability`, { connectorId: 0, type: 'Inoperative' });
    expect(silent.status).toBe(504);
    expect(silent.body).toMatchObject({ reason: 'ChargerTimeout' });
    await charger.close();
  });

  it('lets technicians send commands and refuses a venue with 403', async () => {
    const charger = await connect();
    const venue = concierge.as(await issueToken(concierge.db, 'venue', 'Hotel Alpina front desk'));
    const refused = await venue.post(`/api/chargers/${charger.id}/commands/Reset`, { type: 'Soft' });
    expect(refused.status).toBe(403);
    const technician = concierge.as(await issueToken(concierge.db, 'technician', 'Ana on call'));
    const sent = technician.post(`/api/chargers/${charger.id}/commands/TriggerMessage`, { requestedMessage: 'StatusNotification' });
    charger.answer(await charger.nextFrame(), { status: 'Accepted' });
    expect((await sent).status).toBe(200);
    await charger.close();
  });
});
