import type { RPCServerClient } from './rpc.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import { acceptBoot, heartbeat, reportedAt, type HandlerContext } from './context.js';
import { recordConnectorStatus } from './status.js';

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

/** OCPP 1.6-J handlers. Strict mode has validated every payload against the official schema. */
export function handle16(client: RPCServerClient, ctx: HandlerContext): void {
  client.handle('BootNotification', async ({ params }) => {
    const boot = params as BootNotification16;
    return acceptBoot(ctx, {
      vendor: boot.chargePointVendor,
      model: boot.chargePointModel,
      serialNumber: boot.chargePointSerialNumber ?? boot.chargeBoxSerialNumber ?? null,
      firmwareVersion: boot.firmwareVersion ?? null,
    });
  });

  client.handle('Heartbeat', heartbeat);

  client.handle('StatusNotification', async ({ params }) => {
    const report = params as StatusNotification16;
    const queued = await recordConnectorStatus(
      ctx.db,
      {
        chargerId: ctx.chargerId,
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
    if (queued) ctx.outboxChanged();
    return {};
  });
}
