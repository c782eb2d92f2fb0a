import type { HandlerRegistry } from './rpc.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import { storableText } from '../contracts/storable-text.js';
import { answerBoot, authorize, heartbeat, reportedAt, type HandlerContext } from './context.js';
import { checkConnectorId, checkExactInteger, checkSamples, checkSequenceNumber } from './bounds.js';
import { recordChargerEvent } from './charger-events.js';
import type { DeviceProblem } from './events.js';
import { energyRegister, implausibleSample201, valuesFrom201, type MeterValue201 } from './meter.js';
import { recordSessionEvent } from './sessions.js';
import { recordDeviceProblem } from './status.js';

interface BootNotification201 {
  reason: string;
  chargingStation: { model: string; vendorName: string; serialNumber?: string; firmwareVersion?: string };
}

interface StatusNotification201 {
  timestamp: string;
  connectorStatus: 'Available' | 'Occupied' | 'Reserved' | 'Unavailable' | 'Faulted';
  evseId: number;
  connectorId: number;
}

interface IdToken201 {
  idToken: string;
  type: string;
}

interface TransactionEvent201 {
  eventType: 'Started' | 'Updated' | 'Ended';
  timestamp: string;
  triggerReason: string;
  seqNo: number;
  offline?: boolean;
  transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string };
  evse?: { id: number; connectorId?: number };
  idToken?: IdToken201;
  meterValue?: MeterValue201[];
}

interface EventData201 {
  eventId: number;
  timestamp: string;
  trigger: string;
  actualValue: string;
  techCode?: string;
  techInfo?: string;
  cleared?: boolean;
  eventNotificationType: string;
  component: { name: string; instance?: string; evse?: { id: number; connectorId?: number } };
  variable: { name: string; instance?: string };
}

/** Variables whose `true` means something is broken (OCPP 2.0.1 part 2, appendix: Problem, Tripped, Fault-style monitors). */
const PROBLEM_VARIABLES = new Set(['Problem', 'Tripped', 'Fault']);
/** ChargeX minimum required error codes look like CX001..CX999. */
const MREC_CODE = /^CX\d{3}$/;

/**
 * OCPP 2.0.1 handlers. The EVSE is our connector (port); EVSE 0 is the station as a whole.
 * 2.0.1 carries no error code in StatusNotification: a `Faulted` status alone opens the incident,
 * and the details (tech code, often a ChargeX MREC code) arrive as NotifyEvent problems. Ids and
 * readings the schema leaves unbounded are checked (./bounds.ts) before anything is stored.
 */
export function handle201(client: HandlerRegistry, ctx: HandlerContext): void {
  const { db, chargerId } = ctx;

  client.handle('BootNotification', async ({ params }) => {
    const { chargingStation } = params as BootNotification201;
    return answerBoot(ctx, {
      vendor: chargingStation.vendorName,
      model: chargingStation.model,
      serialNumber: chargingStation.serialNumber ?? null,
      firmwareVersion: chargingStation.firmwareVersion ?? null,
    });
  });

  client.handle('Heartbeat', heartbeat);

  client.handle('StatusNotification', async ({ params }) => {
    const report = params as StatusNotification201;
    checkConnectorId('evseId', report.evseId);
    checkConnectorId('connectorId', report.connectorId);
    await ctx.statuses.write(
      {
        chargerId,
        connectorId: report.evseId,
        status: report.connectorStatus,
        errorCode: null,
        vendorErrorCode: null,
        info: null,
        at: reportedAt(report.timestamp),
        protocol: ctx.protocol,
        payload: report,
      },
      assessConnectorStatus(report.evseId, report.connectorStatus, null),
    );
    ctx.outboxChanged();
    return {};
  });

  client.handle('NotifyEvent', async ({ params }) => {
    const { eventData } = params as { eventData: EventData201[] };
    // All checked before any is kept: a refused call keeps nothing but its frame.
    for (const [i, data] of eventData.entries()) {
      checkExactInteger(`eventData[${i}].eventId`, data.eventId);
      checkConnectorId(`eventData[${i}].component.evse.id`, data.component.evse?.id);
      checkConnectorId(`eventData[${i}].component.evse.connectorId`, data.component.evse?.connectorId);
    }
    let queued = false;
    for (const data of eventData) {
      const connectorId = data.component.evse?.id ?? 0;
      if (PROBLEM_VARIABLES.has(data.variable.name)) {
        queued = (await recordDeviceProblem(db, chargerId, deviceProblem(data), data)) || queued;
      } else {
        await recordChargerEvent(db, chargerId, { kind: 'device-event', connectorId, at: reportedAt(data.timestamp), data });
      }
    }
    if (queued) ctx.outboxChanged();
    return {};
  });

  client.handle('Authorize', async ({ params }) => {
    const { idToken } = params as { idToken: IdToken201 };
    return { idTokenInfo: { status: await authorize(ctx, idToken.idToken) } };
  });

  client.handle('TransactionEvent', async ({ params }) => {
    const event = params as TransactionEvent201;
    checkSequenceNumber('seqNo', event.seqNo);
    checkConnectorId('evse.id', event.evse?.id);
    checkConnectorId('evse.connectorId', event.evse?.connectorId);
    checkSamples('meterValue', implausibleSample201(event.meterValue ?? []));
    const transactionId = event.transactionInfo.transactionId;
    const known = event.evse ? null : await db.selectFrom('sessions').select('connectorId').where('chargerId', '=', chargerId).where('transactionId', '=', transactionId).executeTakeFirst();
    const connectorId = event.evse?.id ?? known?.connectorId ?? 0;
    const values = valuesFrom201(chargerId, connectorId, transactionId, event.meterValue ?? []);
    await ctx.meters.write(values);
    const queued = await recordSessionEvent(db, chargerId, ctx.protocol, {
      kind: event.eventType === 'Started' ? 'started' : event.eventType === 'Ended' ? 'ended' : 'updated',
      connectorId,
      transactionId,
      idTag: event.idToken?.idToken ?? null,
      at: reportedAt(event.timestamp),
      register: energyRegister(values),
      stopReason: event.eventType === 'Ended' ? (event.transactionInfo.stoppedReason ?? 'Local') : null,
      seqNo: event.seqNo,
    });
    if (queued) ctx.outboxChanged();
    return event.idToken ? { idTokenInfo: { status: await authorize(ctx, event.idToken.idToken) } } : {};
  });

  client.handle('MeterValues', async ({ params }) => {
    const report = params as { evseId: number; meterValue: MeterValue201[] };
    checkConnectorId('evseId', report.evseId);
    await ctx.meters.write(valuesFrom201(chargerId, report.evseId, null, report.meterValue));
    return {};
  });

  client.handle('DataTransfer', async ({ params }) => {
    const transfer = params as { vendorId: string; messageId?: string; data?: unknown };
    ctx.log.info({ vendorId: transfer.vendorId, messageId: transfer.messageId }, 'DataTransfer received');
    await recordChargerEvent(db, chargerId, { kind: 'data-transfer', at: new Date().toISOString(), data: transfer });
    return { status: 'Accepted' };
  });

  client.handle('SecurityEventNotification', async ({ params }) => {
    const event = params as { type: string; timestamp: string; techInfo?: string };
    ctx.log.warn({ type: event.type, techInfo: event.techInfo }, 'charger security event');
    await recordChargerEvent(db, chargerId, { kind: 'security-event', at: reportedAt(event.timestamp), data: event });
    return {};
  });

  client.handle('FirmwareStatusNotification', async ({ params }) => {
    await recordChargerEvent(db, chargerId, { kind: 'firmware-status', at: new Date().toISOString(), data: params });
    return {};
  });

  client.handle('LogStatusNotification', async ({ params }) => {
    await recordChargerEvent(db, chargerId, { kind: 'log-status', at: new Date().toISOString(), data: params });
    return {};
  });
}

/** A NotifyEvent problem monitor, normalised: raised when its value is `true` and it is not cleared. */
function deviceProblem(data: EventData201): DeviceProblem {
  const techCode = data.techCode?.trim() || null;
  return {
    connectorId: data.component.evse?.id ?? 0,
    errorCode: techCode ?? `${data.component.name}.${data.variable.name}`,
    mrecCode: techCode && MREC_CODE.test(techCode) ? techCode : null,
    // The schema counts 500 code points, the cut counts UTF-16 units: a pair it splits leaves U+FFFD.
    info: data.techInfo === undefined ? null : storableText(data.techInfo.slice(0, 500)),
    cleared: data.cleared === true || data.actualValue.toLowerCase() !== 'true',
    at: reportedAt(data.timestamp),
    eventId: String(data.eventId),
  };
}
