import type { HandlerRegistry } from './rpc.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import { answerBoot, authorize, heartbeat, reportedAt, type HandlerContext } from './context.js';
import { checkConnectorId, checkExactInteger, checkReading, checkSamples } from './bounds.js';
import { recordChargerEvent } from './charger-events.js';
import { energyRegister, implausibleSample16, valuesFrom16, type MeterValue16 } from './meter.js';
import { recordSessionEvent, startSession16 } from './sessions.js';

interface BootNotification16 {
  chargePointVendor: string;
  chargePointModel: string;
  chargePointSerialNumber?: string;
  chargeBoxSerialNumber?: string;
  firmwareVersion?: string;
}

interface StatusNotification16 {
  connectorId: number;
  errorCode: string;
  status: string;
  info?: string;
  timestamp?: string;
  vendorId?: string;
  vendorErrorCode?: string;
}

interface MeterValues16 {
  connectorId: number;
  transactionId?: number;
  meterValue: MeterValue16[];
}

interface StartTransaction16 {
  connectorId: number;
  idTag: string;
  meterStart: number;
  reservationId?: number;
  timestamp: string;
}

interface StopTransaction16 {
  transactionId: number;
  idTag?: string;
  meterStop: number;
  timestamp: string;
  reason?: string;
  transactionData?: MeterValue16[];
}

/**
 * OCPP 1.6-J handlers (core profile and the security extension's notifications). Strict mode has
 * validated every payload against the official schema; the numbers the schema leaves unbounded are
 * checked here (./bounds.ts) before anything is stored.
 */
export function handle16(client: HandlerRegistry, ctx: HandlerContext): void {
  const { db, chargerId } = ctx;

  client.handle('BootNotification', async ({ params }) => {
    const boot = params as BootNotification16;
    return answerBoot(ctx, {
      vendor: boot.chargePointVendor,
      model: boot.chargePointModel,
      serialNumber: boot.chargePointSerialNumber ?? boot.chargeBoxSerialNumber ?? null,
      firmwareVersion: boot.firmwareVersion ?? null,
    });
  });

  client.handle('Heartbeat', heartbeat);

  client.handle('StatusNotification', async ({ params }) => {
    const report = params as StatusNotification16;
    checkConnectorId('connectorId', report.connectorId);
    await ctx.statuses.write(
      {
        chargerId,
        connectorId: report.connectorId,
        status: report.status,
        errorCode: report.errorCode,
        vendorErrorCode: report.vendorErrorCode ?? null,
        info: report.info ?? null,
        at: reportedAt(report.timestamp),
        protocol: ctx.protocol,
        payload: report,
      },
      assessConnectorStatus(report.connectorId, report.status, report.errorCode),
    );
    ctx.outboxChanged();
    return {};
  });

  client.handle('Authorize', async ({ params }) => {
    const { idTag } = params as { idTag: string };
    return { idTagInfo: { status: await authorize(ctx, idTag) } };
  });

  client.handle('StartTransaction', async ({ params }) => {
    const start = params as StartTransaction16;
    checkConnectorId('connectorId', start.connectorId);
    checkReading('meterStart', start.meterStart);
    const status = await authorize(ctx, start.idTag);
    // The session is recorded even when the tag is refused: the charger may already be delivering energy.
    const transactionId = await startSession16(db, chargerId, { connectorId: start.connectorId, idTag: start.idTag, at: reportedAt(start.timestamp), meterStartWh: start.meterStart });
    return { transactionId, idTagInfo: { status } };
  });

  client.handle('MeterValues', async ({ params }) => {
    const report = params as MeterValues16;
    checkConnectorId('connectorId', report.connectorId);
    checkExactInteger('transactionId', report.transactionId);
    const transactionId = report.transactionId === undefined ? null : String(report.transactionId);
    const values = valuesFrom16(chargerId, report.connectorId, transactionId, report.meterValue);
    const register = transactionId ? energyRegister(values) : null;
    await ctx.meters.write(values, transactionId && register ? { chargerId, transactionId, register } : null);
    return {};
  });

  client.handle('StopTransaction', async ({ params }) => {
    const stop = params as StopTransaction16;
    checkExactInteger('transactionId', stop.transactionId);
    checkReading('meterStop', stop.meterStop);
    checkSamples('transactionData', implausibleSample16(stop.transactionData ?? []));
    const transactionId = String(stop.transactionId);
    const known = await db.selectFrom('sessions').select('connectorId').where('chargerId', '=', chargerId).where('transactionId', '=', transactionId).executeTakeFirst();
    // A stop for a session we never heard start (it began while the charger was offline): connector unknown, kept as 0.
    const connectorId = known?.connectorId ?? 0;
    const values = valuesFrom16(chargerId, connectorId, transactionId, stop.transactionData ?? []);
    await ctx.meters.write(values);
    if (!known) {
      const begin = energyRegister(values, 'Transaction.Begin');
      const startedAt = values.map((v) => v.sampledAt).sort()[0] ?? reportedAt(stop.timestamp);
      await recordSessionEvent(db, chargerId, ctx.protocol, { kind: 'started', connectorId, transactionId, idTag: stop.idTag ?? null, at: startedAt, register: begin, stopReason: null, seqNo: null });
    }
    const queued = await recordSessionEvent(db, chargerId, ctx.protocol, {
      kind: 'ended',
      connectorId,
      transactionId,
      idTag: stop.idTag ?? null,
      at: reportedAt(stop.timestamp),
      register: { value: String(stop.meterStop), exponent: 0 },
      stopReason: stop.reason ?? 'Local',
      seqNo: null,
    });
    if (queued) ctx.outboxChanged();
    return stop.idTag ? { idTagInfo: { status: await authorize(ctx, stop.idTag) } } : {};
  });

  client.handle('DataTransfer', async ({ params }) => {
    const transfer = params as { vendorId: string; messageId?: string; data?: string };
    ctx.log.info({ vendorId: transfer.vendorId, messageId: transfer.messageId }, 'DataTransfer received');
    await recordChargerEvent(db, chargerId, { kind: 'data-transfer', at: new Date().toISOString(), data: transfer });
    return { status: 'Accepted' };
  });

  client.handle('FirmwareStatusNotification', async ({ params }) => {
    await recordChargerEvent(db, chargerId, { kind: 'firmware-status', at: new Date().toISOString(), data: params });
    return {};
  });

  client.handle('DiagnosticsStatusNotification', async ({ params }) => {
    await recordChargerEvent(db, chargerId, { kind: 'log-status', at: new Date().toISOString(), data: params });
    return {};
  });

  // The security extension (OCPP 1.6 security whitepaper): same events as 2.0.1.
  client.handle('SecurityEventNotification', async ({ params }) => {
    const event = params as { type: string; timestamp: string; techInfo?: string };
    ctx.log.warn({ type: event.type, techInfo: event.techInfo }, 'charger security event');
    await recordChargerEvent(db, chargerId, { kind: 'security-event', at: reportedAt(event.timestamp), data: event });
    return {};
  });

  client.handle('SignedFirmwareStatusNotification', async ({ params }) => {
    await recordChargerEvent(db, chargerId, { kind: 'firmware-status', at: new Date().toISOString(), data: params });
    return {};
  });

  client.handle('LogStatusNotification', async ({ params }) => {
    await recordChargerEvent(db, chargerId, { kind: 'log-status', at: new Date().toISOString(), data: params });
    return {};
  });
}
