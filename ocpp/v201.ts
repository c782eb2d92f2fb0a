import type { RPCServerClient } from './rpc.js';
import { assessConnectorStatus } from '../contracts/faults.js';
import { acceptBoot, heartbeat, reportedAt, type HandlerContext } from './context.js';
import { recordConnectorStatus } from './status.js';

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

/**
 * OCPP 2.0.1 handlers. The EVSE is our connector (port); EVSE 0 is the station as a whole.
 * 2.0.1 carries no error code in StatusNotification (details arrive as NotifyEvent), so a
 * `Faulted` status alone opens the incident.
 */
export function handle201(client: RPCServerClient, ctx: HandlerContext): void {
  client.handle('BootNotification', async ({ params }) => {
    const { chargingStation } = params as BootNotification201;
    return acceptBoot(ctx, {
      vendor: chargingStation.vendorName,
      model: chargingStation.model,
      serialNumber: chargingStation.serialNumber ?? null,
      firmwareVersion: chargingStation.firmwareVersion ?? null,
    });
  });

  client.handle('Heartbeat', heartbeat);

  client.handle('StatusNotification', async ({ params }) => {
    const report = params as StatusNotification201;
    const queued = await recordConnectorStatus(
      ctx.db,
      {
        chargerId: ctx.chargerId,
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
    if (queued) ctx.outboxChanged();
    return {};
  });
}
