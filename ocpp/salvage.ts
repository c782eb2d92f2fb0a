import { assessConnectorStatus } from '../contracts/faults.js';
import { storableCopy, storableText } from '../contracts/storable-text.js';
import { isConnectorId } from './bounds.js';
import type { ConnectorStatusChanged } from './events.js';
import { reportedAt, type HandlerContext } from './context.js';

const ERROR_CODES_16 = new Set([
  'ConnectorLockFailure', 'EVCommunicationError', 'GroundFailure', 'HighTemperature', 'InternalError', 'LocalListConflict', 'NoError',
  'OtherError', 'OverCurrentFailure', 'PowerMeterFailure', 'PowerSwitchFailure', 'ReaderFailure', 'ResetFailure', 'UnderVoltage',
  'OverVoltage', 'WeakSignal',
]);

/** A text cut to `max` UTF-16 units; a surrogate pair the cut splits leaves U+FFFD, not a half the database refuses. */
const text = (value: unknown, max = 50) => (typeof value === 'string' && value.length > 0 ? storableText(value.slice(0, max)) : null);

/**
 * What can still be read from a StatusNotification that failed the schema — real chargers send
 * vendor error codes, over-long texts and odd timestamp offsets. A connector id and a status are
 * needed; an unknown error code becomes OtherError with the sent code kept as the vendor code.
 * Null when nothing trustworthy is left.
 */
export function salvageStatusNotification(chargerId: string, protocol: string, params: unknown): ConnectorStatusChanged | null {
  if (!params || typeof params !== 'object') return null;
  const p = params as Record<string, unknown>;
  const is201 = protocol === 'ocpp2.0.1';
  const connectorId = is201 ? p.evseId : p.connectorId;
  const status = text(is201 ? p.connectorStatus : p.status, 30);
  if (!isConnectorId(connectorId) || !status) return null;

  const sentCode = is201 ? null : text(p.errorCode);
  const errorCode = sentCode === null ? null : ERROR_CODES_16.has(sentCode) ? sentCode : 'OtherError';
  const vendorErrorCode = sentCode !== null && !ERROR_CODES_16.has(sentCode) ? sentCode : text(p.vendorErrorCode);
  return {
    chargerId,
    connectorId,
    status,
    errorCode,
    vendorErrorCode,
    info: text(p.info),
    at: reportedAt(p.timestamp),
    protocol,
    payload: params,
  };
}

export interface RejectedCall {
  messageId: string;
  method: string;
  params: unknown;
  error: Error;
}

/**
 * Keeps a call that was answered with a CALLERROR (strict validation's, or a number out of bounds):
 * the frame is stored as received, but for characters PostgreSQL cannot store, which become
 * U+FFFD; a status report is still recorded (and its fault raised) from what can be salvaged.
 */
export async function keepRejectedCall(ctx: HandlerContext, call: RejectedCall): Promise<void> {
  const params = storableCopy(call.params ?? null);
  const salvaged = call.method === 'StatusNotification' ? salvageStatusNotification(ctx.chargerId, ctx.protocol, params) : null;
  await ctx.db
    .insertInto('rejectedFrames')
    .values({
      chargerId: ctx.chargerId,
      protocol: ctx.protocol,
      method: storableText(call.method.slice(0, 100)),
      messageId: storableText(String(call.messageId).slice(0, 100)),
      payload: JSON.stringify(params),
      reason: storableText(call.error.message.slice(0, 1000)),
      salvaged: salvaged !== null,
    })
    .execute();
  if (!salvaged) return;
  await ctx.statuses.write(salvaged, assessConnectorStatus(salvaged.connectorId, salvaged.status, salvaged.errorCode));
  ctx.outboxChanged();
}
