import { describe, expect, it } from 'vitest';
import harbour from '../../contracts/agreements/harbour-estates.js';
import { hashPassword } from '../../platform/secrets.js';
import { CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';
import { RawCharger } from '../../simulator/raw-charger.js';

const at = (iso: string) => new Date(iso).toISOString();

describe.each(databaseKinds)('OCPP messages, sessions and normalised events on %s', (kind) => {
  // A whitelist agreement (Harbour Estates) covering one charger of this run.
  const covered = uniqueId('HW');
  const [garage] = harbour.sites;
  const concierge = useTestApp({
    name: 'messages',
    database: kind,
    agreements: { harbour: { ...harbour, sites: [{ ...garage!, chargers: [{ id: covered, model: 'ChargePoint CPF50', connectors: 2 }] }] } },
  });
  const api = () => concierge.admin;

  async function connect(protocol: 'ocpp1.6' | 'ocpp2.0.1', id = uniqueId('CP'), body: object = {}) {
    if (id !== covered || !(await concierge.db.selectFrom('chargers').select('id').where('id', '=', id).executeTakeFirst())) {
      await concierge.registerCharger(id, body);
    }
    return RawCharger.connect(concierge.ws, id, CHARGER_PASSWORD, [protocol]);
  }

  const session = (chargerId: string, transactionId: string) =>
    concierge.db.selectFrom('sessions').selectAll().where('chargerId', '=', chargerId).where('transactionId', '=', transactionId).executeTakeFirstOrThrow();

  it('1.6: a session with energy from meter readings; retransmitted start, meter values and stop count once', async () => {
    const charger = await connect('ocpp1.6');
    const start = { connectorId: 1, idTag: 'GUEST-42', meterStart: 12_000, timestamp: at('2026-11-24T10:00:00Z') };
    const [, , first] = await charger.call('StartTransaction', start);
    const [, , again] = await charger.call('StartTransaction', start);
    const transactionId = (first as { transactionId: number }).transactionId;
    expect(Number.isInteger(transactionId)).toBe(true);
    expect(again).toEqual(first);
    expect(first).toMatchObject({ idTagInfo: { status: 'Accepted' } });

    const meterValues = {
      connectorId: 1,
      transactionId,
      meterValue: [
        { timestamp: at('2026-11-24T10:15:00Z'), sampledValue: [{ value: '15500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }, { value: '7.2', measurand: 'Power.Active.Import', unit: 'kW' }] },
      ],
    };
    expect((await charger.call('MeterValues', meterValues))[0]).toBe(3);
    expect((await charger.call('MeterValues', meterValues))[0]).toBe(3);
    const midway = await session(charger.id, String(transactionId));
    expect(midway).toMatchObject({ status: 'active', idTag: 'GUEST-42', connectorId: 1 });
    expect(Number(midway.energyWh)).toBe(3_500);

    // A reading in kWh is scaled exactly.
    await charger.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: at('2026-11-24T10:30:00Z'), sampledValue: [{ value: '18.25', unit: 'kWh' }] }] });
    expect(Number((await session(charger.id, String(transactionId))).energyWh)).toBe(6_250);

    const stop = { transactionId, meterStop: 19_000, timestamp: at('2026-11-24T10:40:00Z'), reason: 'EVDisconnected', idTag: 'GUEST-42' };
    expect((await charger.call('StopTransaction', stop))[0]).toBe(3);
    expect((await charger.call('StopTransaction', stop))[0]).toBe(3);
    const ended = await session(charger.id, String(transactionId));
    expect(ended).toMatchObject({ status: 'ended', stopReason: 'EVDisconnected' });
    expect(ended.endedAt?.toISOString()).toBe(stop.timestamp);
    expect(Number(ended.energyWh)).toBe(7_000);

    const samples = await concierge.db.selectFrom('meterSamples').select(['measurand', 'value', 'unit']).where('chargerId', '=', charger.id).orderBy('sampledAt').orderBy('measurand').execute();
    expect(samples.map((s) => [s.measurand, Number(s.value), s.unit])).toEqual([
      ['Energy.Active.Import.Register', 15_500, 'Wh'],
      ['Power.Active.Import', 7.2, 'kW'],
      ['Energy.Active.Import.Register', 18.25, 'kWh'],
    ]);
    expect(await concierge.db.selectFrom('sessions').select('id').where('chargerId', '=', charger.id).execute()).toHaveLength(1);
    charger.close();
  });

  it('stores each meter value once: a quantity sent later for the same moment is added, one sent again is not; a 2.0.1 multiplier is applied', async () => {
    const v16 = await connect('ocpp1.6');
    const moment = at('2026-11-24T12:00:00Z');
    const reading = (sampledValue: object[]) => ({ connectorId: 1, meterValue: [{ timestamp: moment, sampledValue }] });
    const energy = { value: '2000', measurand: 'Energy.Active.Import.Register' };
    const l1 = { value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A' };
    const l2 = { value: '15', measurand: 'Current.Import', phase: 'L2', unit: 'A' };
    await v16.call('MeterValues', reading([energy, l1]));
    // Sent together (one batch): a retransmission, and the same moment's other phase in a message of its own.
    await Promise.all([v16.call('MeterValues', reading([energy, l1])), v16.call('MeterValues', reading([{ ...l2 }])), v16.call('MeterValues', reading([l2, { ...l1, value: '99' }]))]);
    const stored = await concierge.db.selectFrom('meterSamples').select(['measurand', 'phase', 'unit', 'value']).where('chargerId', '=', v16.id).orderBy('measurand').orderBy('phase').execute();
    expect(stored.map((s) => [s.measurand, s.phase, s.unit, Number(s.value)])).toEqual([
      ['Current.Import', 'L1', 'A', 16],
      ['Current.Import', 'L2', 'A', 15],
      ['Energy.Active.Import.Register', '', 'Wh', 2000],
    ]);
    expect(await concierge.db.selectFrom('meterValues').select('sampledAt').where('chargerId', '=', v16.id).execute()).toHaveLength(1);
    v16.close();

    const v201 = await connect('ocpp2.0.1');
    await v201.call('MeterValues', { evseId: 1, meterValue: [{ timestamp: moment, sampledValue: [{ value: 7.25, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W', multiplier: 3 } }] }] });
    const [power] = await concierge.db.selectFrom('meterSamples').select(['unit', 'value']).where('chargerId', '=', v201.id).execute();
    expect(power).toMatchObject({ unit: 'W' });
    expect(Number(power!.value)).toBe(7_250);
    v201.close();
  });

  it('1.6: a stop for a session that started while the charger was offline still records the session', async () => {
    const charger = await connect('ocpp1.6');
    const [, , answer] = await charger.call('StopTransaction', {
      transactionId: 987_654,
      meterStop: 5_400,
      timestamp: at('2026-11-24T09:30:00Z'),
      transactionData: [{ timestamp: at('2026-11-24T09:00:00Z'), sampledValue: [{ value: '1400', context: 'Transaction.Begin' }] }],
    });
    expect(answer).toEqual({});
    const row = await session(charger.id, '987654');
    expect(row).toMatchObject({ status: 'ended' });
    expect(row.startedAt.toISOString()).toBe(at('2026-11-24T09:00:00Z'));
    expect(Number(row.energyWh)).toBe(4_000);
    charger.close();
  });

  it('2.0.1: TransactionEvent Started/Updated/Ended; repeated events count once; a session first heard mid-way is kept', async () => {
    const charger = await connect('ocpp2.0.1');
    const register = (wh: number, context: string) => [{ timestamp: at('2026-11-24T11:00:00Z'), sampledValue: [{ value: wh, context, measurand: 'Energy.Active.Import.Register' }] }];
    const event = (eventType: string, seqNo: number, timestamp: string, meterValue: unknown, extra: object = {}) => ({
      eventType,
      timestamp: at(timestamp),
      triggerReason: eventType === 'Updated' ? 'MeterValuePeriodic' : 'Authorized',
      seqNo,
      transactionInfo: { transactionId: 'tx-201-a', ...(eventType === 'Ended' ? { stoppedReason: 'Local' } : {}) },
      meterValue,
      ...extra,
    });
    const [, , started] = await charger.call('TransactionEvent', event('Started', 0, '2026-11-24T11:00:00Z', register(1_000, 'Transaction.Begin'), { evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'GUEST-7', type: 'ISO14443' } }));
    expect(started).toEqual({ idTokenInfo: { status: 'Accepted' } });
    const updated = event('Updated', 1, '2026-11-24T11:10:00Z', [{ timestamp: at('2026-11-24T11:10:00Z'), sampledValue: [{ value: 4, unitOfMeasure: { unit: 'kWh' } }] }]);
    await charger.call('TransactionEvent', updated);
    await charger.call('TransactionEvent', updated);
    expect(Number((await session(charger.id, 'tx-201-a')).energyWh)).toBe(3_000);
    const ended = event('Ended', 2, '2026-11-24T11:20:00Z', [{ timestamp: at('2026-11-24T11:20:00Z'), sampledValue: [{ value: 8_500, context: 'Transaction.End' }] }]);
    await charger.call('TransactionEvent', ended);
    await charger.call('TransactionEvent', ended);
    const row = await session(charger.id, 'tx-201-a');
    expect(row).toMatchObject({ status: 'ended', connectorId: 1, idTag: 'GUEST-7', stopReason: 'Local', lastSeqNo: 2 });
    expect(Number(row.energyWh)).toBe(7_500);

    // The charger started this one offline: the first thing we hear is an Updated event.
    await charger.call('TransactionEvent', { ...event('Updated', 3, '2026-11-24T12:00:00Z', register(20_000, 'Sample.Periodic'), { evse: { id: 2 } }), transactionInfo: { transactionId: 'tx-201-b' } });
    await charger.call('TransactionEvent', { ...event('Ended', 4, '2026-11-24T12:30:00Z', register(26_000, 'Transaction.End')), transactionInfo: { transactionId: 'tx-201-b', stoppedReason: 'EVDisconnected' } });
    const offline = await session(charger.id, 'tx-201-b');
    expect(offline).toMatchObject({ status: 'ended', connectorId: 2, stopReason: 'EVDisconnected' });
    expect(Number(offline.energyWh)).toBe(6_000);
    charger.close();
  });

  it('2.0.1: a NotifyEvent problem with a ChargeX MREC code opens the connector incident; its clearing is logged, not raised', async () => {
    const charger = await connect('ocpp2.0.1');
    const problem = (cleared: boolean, eventId: number) => ({
      generatedAt: new Date().toISOString(),
      seqNo: eventId,
      eventData: [
        {
          eventId,
          timestamp: new Date().toISOString(),
          trigger: 'Delta',
          actualValue: cleared ? 'false' : 'true',
          cleared,
          techCode: 'CX002',
          techInfo: 'ground fault detected by RCD',
          eventNotificationType: 'HardWiredNotification',
          component: { name: 'Connector', evse: { id: 1, connectorId: 1 } },
          variable: { name: 'Problem' },
        },
      ],
    });
    const raised = problem(false, 1);
    expect(await charger.call('NotifyEvent', raised)).toEqual([3, expect.any(String), {}]);
    // Sent again (the answer was lost): the same fault, not a second one.
    expect(await charger.call('NotifyEvent', raised)).toEqual([3, expect.any(String), {}]);
    const incident = await eventually(async () => {
      const { body } = await api().get(`/api/incidents?chargerId=${charger.id}`);
      return (body as { incidents: Array<{ connectorId: number; faults: Array<{ errorCode: string; vendorErrorCode: string | null; info: string | null }> }> }).incidents[0];
    }, 10_000, 'the incident');
    expect(incident.connectorId).toBe(1);
    expect(incident.faults[0]).toMatchObject({ errorCode: 'CX002', vendorErrorCode: 'CX002', info: 'ground fault detected by RCD' });

    await charger.call('NotifyEvent', problem(true, 2));
    // The event log keeps every receipt, the retransmit included; the clearing is logged, not raised.
    const events = await concierge.db.selectFrom('chargerEvents').select(['kind', 'connectorId', 'data']).where('chargerId', '=', charger.id).where('kind', '=', 'device-event').orderBy('id').execute();
    expect(events.map((e) => [(e.data as { cleared: boolean }).cleared, e.connectorId])).toEqual([
      [false, 1],
      [false, 1],
      [true, 1],
    ]);
    // Both receipts carry the charger's event id, so the incident counts the fault once.
    const outbox = await concierge.db.selectFrom('outbox').select('payload').where('chargerId', '=', charger.id).where('kind', '=', 'fault').execute();
    expect(new Set(outbox.map((o) => (o.payload as { fault: { eventId: string } }).fault.eventId)).size).toBe(1);
    await eventually(async () => {
      const pending = await concierge.db.selectFrom('outbox').select('id').where('chargerId', '=', charger.id).where('deliveredAt', 'is', null).execute();
      return pending.length === 0;
    }, 10_000, 'both deliveries');
    const { body: settled } = await api().get(`/api/incidents/${(incident as unknown as { id: string }).id}`);
    expect(settled.faults).toHaveLength(1);
    charger.close();
  });

  it('authorizes by the agreement: a whitelist accepts its tags only; chargers without an agreement accept any tag', async () => {
    const coveredCharger = await connect('ocpp1.6', covered);
    expect((await coveredCharger.call('Authorize', { idTag: 'HARBOUR-RES-0001' }))[2]).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect((await coveredCharger.call('Authorize', { idTag: 'STRANGER-1' }))[2]).toEqual({ idTagInfo: { status: 'Invalid' } });
    // A refused tag's StartTransaction is answered Invalid but the session is still kept: energy may already flow.
    const [, , start] = await coveredCharger.call('StartTransaction', { connectorId: 2, idTag: 'STRANGER-1', meterStart: 0, timestamp: new Date().toISOString() });
    expect(start).toMatchObject({ idTagInfo: { status: 'Invalid' } });
    coveredCharger.close();

    const other = await connect('ocpp2.0.1');
    expect((await other.call('Authorize', { idToken: { idToken: 'ANYONE', type: 'ISO14443' } }))[2]).toEqual({ idTokenInfo: { status: 'Accepted' } });
    other.close();
  });

  it('keeps DataTransfer, firmware, diagnostics/log and security notifications in the charger event log', async () => {
    const v16 = await connect('ocpp1.6');
    expect((await v16.call('DataTransfer', { vendorId: 'com.example', messageId: 'diag', data: 'x=1' }))[2]).toEqual({ status: 'Accepted' });
    await v16.call('FirmwareStatusNotification', { status: 'Installed' });
    await v16.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
    await v16.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: new Date().toISOString(), techInfo: 'lid opened' });
    const v201 = await connect('ocpp2.0.1');
    await v201.call('LogStatusNotification', { status: 'Uploaded', requestId: 7 });
    await v201.call('FirmwareStatusNotification', { status: 'Downloaded', requestId: 8 });
    await v201.call('SecurityEventNotification', { type: 'FirmwareUpdated', timestamp: new Date().toISOString() });
    const kinds = async (id: string) =>
      (await concierge.db.selectFrom('chargerEvents').select('kind').where('chargerId', '=', id).where('kind', 'not in', ['connected', 'disconnected']).orderBy('id').execute()).map((e) => e.kind);
    expect(await kinds(v16.id)).toEqual(['data-transfer', 'firmware-status', 'log-status', 'security-event']);
    expect(await kinds(v201.id)).toEqual(['log-status', 'firmware-status', 'security-event']);
    v16.close();
    v201.close();
  });

  it('answers the boot of a charger not yet commissioned with Pending, and Accepted once it is', async () => {
    const id = uniqueId('NEW');
    const charger = await connect('ocpp1.6', id, { commissioned: false });
    const boot = { chargePointVendor: 'ACME', chargePointModel: 'Wallbox 22' };
    expect((await charger.call('BootNotification', boot))[2]).toMatchObject({ status: 'Pending', interval: expect.any(Number) });
    expect((await api().post(`/api/chargers/${id}/commission`)).body).toMatchObject({ id, state: 'active' });
    expect((await charger.call('BootNotification', boot))[2]).toMatchObject({ status: 'Accepted' });
    charger.close();
  });

  it('refuses a wrong password after the right one was accepted, and the old one once the password changed (the verified-password cache checks every time)', async () => {
    const charger = await connect('ocpp1.6');
    await charger.close();
    await expect(RawCharger.connect(concierge.ws, charger.id, `${CHARGER_PASSWORD}-not`, ['ocpp1.6'])).rejects.toMatchObject({ status: 401 });
    const again = await RawCharger.connect(concierge.ws, charger.id, CHARGER_PASSWORD, ['ocpp1.6']);
    expect((await again.call('Heartbeat', {}))[0]).toBe(3);
    await again.close();
    // A new password in the database: the one checked before is no longer good enough.
    await concierge.db.updateTable('chargers').set({ passwordHash: await hashPassword(`${CHARGER_PASSWORD}-new`) }).where('id', '=', charger.id).execute();
    await expect(RawCharger.connect(concierge.ws, charger.id, CHARGER_PASSWORD, ['ocpp1.6'])).rejects.toMatchObject({ status: 401 });
    const renewed = await RawCharger.connect(concierge.ws, charger.id, `${CHARGER_PASSWORD}-new`, ['ocpp1.6']);
    await renewed.close();
  });

  it('refuses an invalid enum value with a CALLERROR, records nothing, and keeps the charger connected', async () => {
    const charger = await connect('ocpp1.6');
    const [type, , code] = await charger.call('FirmwareStatusNotification', { status: 'Exploded' });
    expect(type).toBe(4);
    expect(['FormatViolation', 'PropertyConstraintViolation', 'FormationViolation']).toContain(code);
    expect(charger.isOpen).toBe(true);
    expect((await charger.call('Heartbeat', {}))[0]).toBe(3);
    const logged = await concierge.db.selectFrom('chargerEvents').select('kind').where('chargerId', '=', charger.id).where('kind', '=', 'firmware-status').execute();
    expect(logged).toHaveLength(0);
    charger.close();
  });
});
