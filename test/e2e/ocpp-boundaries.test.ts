import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';
import { HandshakeRefused, RawCharger, type Frame } from '../../simulator/raw-charger.js';

/** What PostgreSQL's text and jsonb cannot hold: NUL, and UTF-16 surrogates outside a pair. */
const NUL = '\u0000';
const LONE_HIGH = '\uD800';
const LONE_LOW = '\uDC00';
const REPLACED = '\uFFFD';
const at = (iso: string) => new Date(iso).toISOString();

interface IncidentView {
  connectorId: number;
  faults: Array<{ errorCode: string; vendorErrorCode: string | null; info: string | null }>;
}

/**
 * What a charger can send that the database cannot store as it is — characters text and jsonb
 * refuse, numbers beyond a column or beyond sense, a URL id no charger can have — and what the
 * gateway does with each: a charger's data is kept with U+FFFD in such a character's place, an
 * out-of-range number is refused with a CALLERROR and kept in rejected_frames, a bad id is a 401.
 */
describe.each(databaseKinds)('OCPP boundaries on %s', (kind) => {
  const concierge = useTestApp({ name: 'boundaries', database: kind });
  const api = () => concierge.admin;

  const register = (id?: string) => concierge.registerCharger(id);

  async function connect(protocol: 'ocpp1.6' | 'ocpp2.0.1' = 'ocpp1.6') {
    return RawCharger.connect(concierge.ws, await register(), CHARGER_PASSWORD, [protocol]);
  }

  const incidentsOf = async (chargerId: string) => ((await api().get(`/api/incidents?chargerId=${chargerId}`)).body as { incidents: IncidentView[] }).incidents;
  const firstIncident = (chargerId: string) => eventually(async () => (await incidentsOf(chargerId))[0], 10_000, `an incident of ${chargerId}`);
  const isConnected = async (chargerId: string) => (await concierge.db.selectFrom('chargers').select('connected').where('id', '=', chargerId).executeTakeFirstOrThrow()).connected;
  const rejectedFrames = (chargerId: string) => concierge.db.selectFrom('rejectedFrames').selectAll().where('chargerId', '=', chargerId).orderBy('id').execute();
  const chargerEvents = (chargerId: string, kind: string) => concierge.db.selectFrom('chargerEvents').select(['connectorId', 'data']).where('chargerId', '=', chargerId).where('kind', '=', kind).orderBy('id').execute();
  /** The CALLERROR that refuses a number out of bounds: the call was well-formed, one of its values is not acceptable. */
  const refusal = (field: string): Frame => [4, expect.any(String), 'PropertyConstraintViolation', expect.stringContaining(field), {}];

  describe('charger ids in the URL', () => {
    it('refuses an id no charger can have (%00 and other characters outside the id rule) with 401, and serves the next charger', async () => {
      const known = await register();
      // Each with the password of a charger that exists, and with the id itself as the Basic-auth user.
      const ids = [`${known}%00`, '%00', `CP%00x`, 'CP%20one', 'caf%C3%A9', 'a%2Fb', 'x'.repeat(49), '%ED%A0%80', '%E0%A4%A'];
      for (const urlId of ids) {
        let user: string;
        try {
          user = decodeURIComponent(urlId);
        } catch {
          user = urlId;
        }
        const status = await new Promise<number>((resolve) => {
          const socket = new WebSocket(`${concierge.ws}/ocpp/${urlId}`, ['ocpp1.6'], { headers: { authorization: `Basic ${Buffer.from(`${user}:${CHARGER_PASSWORD}`).toString('base64')}` } });
          socket.once('open', () => resolve(101));
          socket.once('unexpected-response', (_request, response) => {
            resolve(response.statusCode ?? 0);
            socket.terminate();
          });
          socket.once('error', () => resolve(0));
        });
        expect({ urlId, status }).toEqual({ urlId, status: 401 });
      }
      const charger = await RawCharger.connect(concierge.ws, known, CHARGER_PASSWORD);
      expect((await charger.call('Heartbeat', {}))[0]).toBe(3);
      await charger.close();
      await expect(RawCharger.connect(concierge.ws, uniqueId('unknown'), CHARGER_PASSWORD)).rejects.toEqual(new HandshakeRefused(401));
    });
  });

  describe('numbers out of bounds', () => {
    it('1.6: refuses meterStop 2^62, an implausible meterStart and reading, and negative connector ids; keeps each call; the socket keeps working', async () => {
      const charger = await connect();
      const [, , started] = await charger.call('StartTransaction', { connectorId: 1, idTag: 'GUEST', meterStart: 1_000, timestamp: at('2026-11-24T10:00:00Z') });
      const transactionId = (started as { transactionId: number }).transactionId;

      const refusedCalls: Array<[string, object, string]> = [
        ['StopTransaction', { transactionId, meterStop: 2 ** 62, timestamp: at('2026-11-24T11:00:00Z') }, 'meterStop'],
        ['StopTransaction', { transactionId, meterStop: 2_000, timestamp: at('2026-11-24T11:00:00Z'), transactionData: [{ timestamp: at('2026-11-24T11:00:00Z'), sampledValue: [{ value: '1e300' }] }] }, 'transactionData'],
        ['StopTransaction', { transactionId: 2 ** 60, meterStop: 2_000, timestamp: at('2026-11-24T11:00:00Z') }, 'transactionId'],
        ['StartTransaction', { connectorId: 2, idTag: 'GUEST', meterStart: 1e15, timestamp: at('2026-11-24T10:00:00Z') }, 'meterStart'],
        ['StartTransaction', { connectorId: -1, idTag: 'GUEST', meterStart: 0, timestamp: at('2026-11-24T10:00:00Z') }, 'connectorId'],
        ['StatusNotification', { connectorId: -5, errorCode: 'GroundFailure', status: 'Faulted' }, 'connectorId'],
        ['StatusNotification', { connectorId: 2 ** 31, errorCode: 'GroundFailure', status: 'Faulted' }, 'connectorId'],
        ['MeterValues', { connectorId: -2, meterValue: [{ timestamp: at('2026-11-24T10:30:00Z'), sampledValue: [{ value: '5' }] }] }, 'connectorId'],
      ];
      for (const [action, payload, field] of refusedCalls) {
        expect({ action, field, answer: await charger.call(action, payload) }).toEqual({ action, field, answer: refusal(field) });
      }

      // Each refused call is kept as it came; nothing of it was stored elsewhere.
      const frames = await rejectedFrames(charger.id);
      expect(frames.map((f) => [f.method, f.payload, f.salvaged])).toEqual(refusedCalls.map(([action, payload]) => [action, payload, false]));
      expect(frames.every((f) => f.reason.length > 0)).toBe(true);
      const session = await concierge.db.selectFrom('sessions').selectAll().where('chargerId', '=', charger.id).execute();
      expect(session).toEqual([expect.objectContaining({ transactionId: String(transactionId), status: 'active', meterStopWh: null })]);
      expect(await concierge.db.selectFrom('statusLog').select('connectorId').where('chargerId', '=', charger.id).execute()).toEqual([]);
      expect(await concierge.db.selectFrom('meterValues').select('connectorId').where('chargerId', '=', charger.id).execute()).toEqual([]);

      // The socket is up and the charger is served: the real stop is kept, with its exact reading.
      expect(charger.isOpen).toBe(true);
      expect((await charger.call('StopTransaction', { transactionId, meterStop: 2_500, timestamp: at('2026-11-24T11:00:00Z') }))[0]).toBe(3);
      const ended = await concierge.db.selectFrom('sessions').select(['status', 'meterStopWh', 'energyWh']).where('chargerId', '=', charger.id).executeTakeFirstOrThrow();
      expect([ended.status, Number(ended.meterStopWh), Number(ended.energyWh)]).toEqual(['ended', 2_500, 1_500]);
      // No incident on connector −5 (or anywhere): the faulted reports were refused.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await incidentsOf(charger.id)).toEqual([]);
      await charger.close();
    });

    it('2.0.1: refuses a TransactionEvent with an implausible reading, a negative EVSE or connector id, or a seqNo beyond the column; and negative EVSE ids elsewhere', async () => {
      const charger = await connect('ocpp2.0.1');
      const event = (extra: object) => ({ eventType: 'Updated', timestamp: at('2026-11-24T11:00:00Z'), triggerReason: 'MeterValuePeriodic', seqNo: 1, transactionInfo: { transactionId: 'tx-bounds' }, evse: { id: 1, connectorId: 1 }, ...extra });
      const reading = (value: number, multiplier?: number) => [{ timestamp: at('2026-11-24T11:00:00Z'), sampledValue: [{ value, ...(multiplier === undefined ? {} : { unitOfMeasure: { unit: 'Wh', multiplier } }) }] }];
      const refusedCalls: Array<[string, object, string]> = [
        ['TransactionEvent', event({ meterValue: reading(2 ** 62) }), 'meterValue'],
        ['TransactionEvent', event({ meterValue: reading(5, 40) }), 'meterValue'],
        ['TransactionEvent', event({ evse: { id: -1 } }), 'evse'],
        ['TransactionEvent', event({ evse: { id: 1, connectorId: -1 } }), 'connectorId'],
        ['TransactionEvent', event({ seqNo: 2 ** 31 }), 'seqNo'],
        ['StatusNotification', { timestamp: at('2026-11-24T11:00:00Z'), connectorStatus: 'Faulted', evseId: -5, connectorId: 1 }, 'evseId'],
        ['MeterValues', { evseId: 2 ** 31, meterValue: reading(5) }, 'evseId'],
        [
          'NotifyEvent',
          {
            generatedAt: at('2026-11-24T11:00:00Z'),
            seqNo: 0,
            eventData: [{ eventId: 1, timestamp: at('2026-11-24T11:00:00Z'), trigger: 'Delta', actualValue: 'true', eventNotificationType: 'HardWiredNotification', component: { name: 'EVSE', evse: { id: -3 } }, variable: { name: 'Problem' } }],
          },
          'evse',
        ],
      ];
      for (const [action, payload, field] of refusedCalls) {
        expect({ action, field, answer: await charger.call(action, payload) }).toEqual({ action, field, answer: refusal(field) });
      }
      const frames = await rejectedFrames(charger.id);
      expect(frames.map((f) => [f.method, f.payload])).toEqual(refusedCalls.map(([action, payload]) => [action, payload]));
      expect(await concierge.db.selectFrom('sessions').select('id').where('chargerId', '=', charger.id).execute()).toEqual([]);
      expect(await concierge.db.selectFrom('chargerEvents').select('id').where('chargerId', '=', charger.id).where('kind', '=', 'device-event').execute()).toEqual([]);

      // Still served: a plausible event is kept, with its reading exact.
      expect((await charger.call('TransactionEvent', event({ eventType: 'Started', meterValue: reading(999_999_999_999_999) })))[0]).toBe(3);
      const session = await concierge.db.selectFrom('sessions').select(['meterStartWh', 'connectorId']).where('chargerId', '=', charger.id).executeTakeFirstOrThrow();
      expect([Number(session.meterStartWh), session.connectorId]).toEqual([999_999_999_999_999, 1]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await incidentsOf(charger.id)).toEqual([]);
      await charger.close();
    });
  });

  describe('times the database cannot hold', () => {
    it('keeps a fault stamped in year 0 at the time it was received, and skips a meter value stamped so', async () => {
      const charger = await connect();
      const before = Date.now();
      const report = { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: '0000-01-01T00:00:00Z' };
      expect(await charger.call('StatusNotification', report)).toEqual([3, expect.any(String), {}]);
      const [logged] = await concierge.db.selectFrom('statusLog').select('reportedAt').where('chargerId', '=', charger.id).execute();
      expect(new Date(logged!.reportedAt).getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect((await firstIncident(charger.id)).faults).toEqual([expect.objectContaining({ errorCode: 'GroundFailure' })]);

      const meterValue = (timestamp: string, value: string) => ({ timestamp, sampledValue: [{ value }] });
      expect((await charger.call('MeterValues', { connectorId: 1, meterValue: [meterValue('0000-06-01T00:00:00Z', '5'), meterValue(at('2026-11-24T10:00:00Z'), '6')] }))[0]).toBe(3);
      const values = await concierge.db.selectFrom('meterValues').select(['sampledAt', 'samples']).where('chargerId', '=', charger.id).execute();
      expect(values.map((v) => [new Date(v.sampledAt).toISOString(), (v.samples as Array<{ value: string }>)[0]!.value])).toEqual([[at('2026-11-24T10:00:00Z'), '6']]);
      await charger.close();
    });
  });

  describe('text PostgreSQL cannot store', () => {
    it('1.6: keeps a fault whose info and vendor error code carry NUL and a lone surrogate, with U+FFFD in their place, and opens its incident', async () => {
      const charger = await connect();
      const report = { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', info: `RCD${NUL}tripped`, vendorErrorCode: `E${LONE_HIGH}-17`, vendorId: `ACME${LONE_LOW}` };
      expect(await charger.call('StatusNotification', report)).toEqual([3, expect.any(String), {}]);

      const [logged] = await concierge.db.selectFrom('statusLog').select(['info', 'vendorErrorCode', 'payload']).where('chargerId', '=', charger.id).execute();
      expect(logged).toEqual({
        info: `RCD${REPLACED}tripped`,
        vendorErrorCode: `E${REPLACED}-17`,
        payload: { ...report, info: `RCD${REPLACED}tripped`, vendorErrorCode: `E${REPLACED}-17`, vendorId: `ACME${REPLACED}` },
      });
      const incident = await firstIncident(charger.id);
      expect(incident.connectorId).toBe(1);
      expect(incident.faults).toEqual([expect.objectContaining({ errorCode: 'GroundFailure', vendorErrorCode: `E${REPLACED}-17`, info: `RCD${REPLACED}tripped` })]);
      await charger.close();
    });

    it('1.6: BootNotification, DataTransfer, SecurityEventNotification, StartTransaction and a salvaged status with such characters are answered and kept', async () => {
      const charger = await connect();
      const boot = await charger.call('BootNotification', { chargePointVendor: `ACME${NUL}`, chargePointModel: 'Fast', chargePointSerialNumber: `S${LONE_LOW}N`, firmwareVersion: `1.0${NUL}beta` });
      expect(boot[0]).toBe(3);
      const row = await concierge.db.selectFrom('chargers').select(['vendor', 'serialNumber', 'firmwareVersion']).where('id', '=', charger.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ vendor: `ACME${REPLACED}`, serialNumber: `S${REPLACED}N`, firmwareVersion: `1.0${REPLACED}beta` });

      expect(await charger.call('DataTransfer', { vendorId: 'acme', messageId: `m${NUL}`, data: `a${NUL}b${LONE_HIGH}` })).toEqual([3, expect.any(String), { status: 'Accepted' }]);
      expect((await chargerEvents(charger.id, 'data-transfer')).map((e) => e.data)).toEqual([{ vendorId: 'acme', messageId: `m${REPLACED}`, data: `a${REPLACED}b${REPLACED}` }]);

      expect((await charger.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: at('2026-11-24T10:00:00Z'), techInfo: `lid${NUL}open` }))[0]).toBe(3);
      expect((await chargerEvents(charger.id, 'security-event')).map((e) => e.data)).toEqual([expect.objectContaining({ techInfo: `lid${REPLACED}open` })]);

      const [, , started] = await charger.call('StartTransaction', { connectorId: 1, idTag: `TAG${NUL}1`, meterStart: 100, timestamp: at('2026-11-24T10:00:00Z') });
      const transactionId = String((started as { transactionId: number }).transactionId);
      const session = await concierge.db.selectFrom('sessions').select('idTag').where('chargerId', '=', charger.id).where('transactionId', '=', transactionId).executeTakeFirstOrThrow();
      expect(session.idTag).toBe(`TAG${REPLACED}1`);

      // Strict validation refuses the vendor's own error code; the frame is kept and its fault still raised, with U+FFFD for the NUL.
      const refused = { connectorId: 2, errorCode: `E${NUL}42`, status: 'Faulted', info: `hot${LONE_LOW}` };
      charger.sendRaw(JSON.stringify([2, `r${NUL}1`, 'StatusNotification', refused]));
      expect((await charger.nextFrame()).slice(0, 2)).toEqual([4, `r${NUL}1`]);
      const [frame] = await eventually(async () => {
        const frames = await rejectedFrames(charger.id);
        return frames.length > 0 && frames;
      }, 5_000, 'the rejected frame');
      expect(frame).toMatchObject({ messageId: `r${REPLACED}1`, payload: { ...refused, errorCode: `E${REPLACED}42`, info: `hot${REPLACED}` }, salvaged: true });
      const incident = await firstIncident(charger.id);
      expect(incident).toMatchObject({ connectorId: 2, faults: [expect.objectContaining({ errorCode: 'OtherError', vendorErrorCode: `E${REPLACED}42`, info: `hot${REPLACED}` })] });
      await charger.close();
    });

    it('2.0.1: a NotifyEvent problem whose tech info carries NUL opens its incident; a DataTransfer with NUL in a key and lone surrogates in values is kept', async () => {
      const charger = await connect('ocpp2.0.1');
      const problem = {
        generatedAt: new Date().toISOString(),
        seqNo: 0,
        eventData: [
          {
            eventId: 7,
            timestamp: new Date().toISOString(),
            trigger: 'Delta',
            actualValue: 'true',
            techCode: 'CX002',
            techInfo: `ground fault${NUL}RCD`,
            eventNotificationType: 'HardWiredNotification',
            component: { name: 'Connector', instance: `left${LONE_HIGH}`, evse: { id: 1, connectorId: 1 } },
            variable: { name: 'Problem' },
          },
        ],
      };
      expect(await charger.call('NotifyEvent', problem)).toEqual([3, expect.any(String), {}]);
      const incident = await firstIncident(charger.id);
      expect(incident.faults).toEqual([expect.objectContaining({ errorCode: 'CX002', info: `ground fault${REPLACED}RCD` })]);
      const [event] = await chargerEvents(charger.id, 'device-event');
      expect(event!.data).toMatchObject({ info: `ground fault${REPLACED}RCD`, payload: { component: { instance: `left${REPLACED}` } } });

      const data = { [`key${NUL}`]: [`x${LONE_LOW}`, { nested: `y${LONE_HIGH}z` }], plain: 'ok' };
      expect(await charger.call('DataTransfer', { vendorId: 'acme', data })).toEqual([3, expect.any(String), { status: 'Accepted' }]);
      expect((await chargerEvents(charger.id, 'data-transfer')).map((e) => e.data)).toEqual([{ vendorId: 'acme', data: { [`key${REPLACED}`]: [`x${REPLACED}`, { nested: `y${REPLACED}z` }], plain: 'ok' } }]);

      // A transaction id chosen by the charger is kept with the replacement too.
      const started = { eventType: 'Started', timestamp: at('2026-11-24T11:00:00Z'), triggerReason: 'Authorized', seqNo: 1, transactionInfo: { transactionId: `tx${NUL}1` }, evse: { id: 1, connectorId: 1 } };
      expect((await charger.call('TransactionEvent', started))[0]).toBe(3);
      expect(await concierge.db.selectFrom('sessions').select('transactionId').where('chargerId', '=', charger.id).execute()).toEqual([{ transactionId: `tx${REPLACED}1` }]);
      await charger.close();
    });

    it("keeps a command's answer and the text of a charger's CALLERROR with U+FFFD for such characters", async () => {
      const charger = await connect();
      // A command goes to the gateway the charger is recorded on.
      await eventually(async () => await isConnected(charger.id), 5_000, 'connected');
      const answered = api().post(`/api/chargers/${charger.id}/commands/DataTransfer`, { vendorId: 'acme', data: 'ping' });
      charger.answer(await charger.nextFrame(), { status: 'Accepted', data: `pong${NUL}${LONE_HIGH}` });
      const response = await answered;
      expect(response.status).toBe(200);
      expect(response.body.response).toEqual({ status: 'Accepted', data: `pong${REPLACED}${REPLACED}` });

      const refused = api().post(`/api/chargers/${charger.id}/commands/DataTransfer`, { vendorId: 'acme', data: 'ping' });
      const call = await charger.nextFrame();
      charger.sendRaw(JSON.stringify([4, call[1], 'GenericError', `no${NUL}way`, { why: `x${LONE_LOW}` }]));
      expect((await refused).status).toBe(502);
      const logged = await eventually(async () => {
        const events = await chargerEvents(charger.id, 'command');
        return events.length === 2 && events.map((e) => e.data as { response?: unknown; error?: string });
      }, 5_000, 'both commands logged');
      expect(logged[0]!.response).toEqual({ status: 'Accepted', data: `pong${REPLACED}${REPLACED}` });
      expect(logged[1]!.error).toContain(`no${REPLACED}way`);
      await charger.close();
    });

    it('keeps a text cut to its length whole: a surrogate pair split at the cut leaves U+FFFD, not a lone half', async () => {
      // Schemas count code points, we cut UTF-16 units: 49 letters and a plug are 50 code points, 51 units.
      const long = `${'a'.repeat(49)}🔌`;
      const charger16 = await connect();
      const refused = { connectorId: 1, errorCode: 'E-1', status: 'Faulted', info: long };
      expect((await charger16.call('StatusNotification', refused))[0]).toBe(4);
      expect((await firstIncident(charger16.id)).faults).toEqual([expect.objectContaining({ vendorErrorCode: 'E-1', info: `${'a'.repeat(49)}${REPLACED}` })]);

      const charger201 = await connect('ocpp2.0.1');
      const techInfo = `${'b'.repeat(499)}🔌`;
      const problem = {
        generatedAt: new Date().toISOString(),
        seqNo: 0,
        eventData: [{ eventId: 1, timestamp: new Date().toISOString(), trigger: 'Delta', actualValue: 'true', techInfo, eventNotificationType: 'HardWiredNotification', component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Problem' } }],
      };
      expect(await charger201.call('NotifyEvent', problem)).toEqual([3, expect.any(String), {}]);
      expect((await firstIncident(charger201.id)).faults).toEqual([expect.objectContaining({ info: `${'b'.repeat(499)}${REPLACED}` })]);
      await Promise.all([charger16.close(), charger201.close()]);
    });

    it('records a charger gone whose socket closed with NUL in the close reason', async () => {
      const id = await register();
      const socket = new WebSocket(`${concierge.ws}/ocpp/${id}`, ['ocpp1.6'], { headers: { authorization: `Basic ${Buffer.from(`${id}:${CHARGER_PASSWORD}`).toString('base64')}` } });
      await new Promise((resolve) => socket.once('open', resolve));
      await eventually(async () => await isConnected(id), 5_000, 'connected');
      socket.close(1000, `bye${NUL}now`);
      await eventually(async () => !(await isConnected(id)), 5_000, 'recorded gone');
      expect((await chargerEvents(id, 'disconnected')).map((e) => e.data)).toEqual([expect.objectContaining({ code: 1000, reason: `bye${REPLACED}now` })]);
    });
  });
});
