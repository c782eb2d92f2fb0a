import type { Priority } from '../contracts/faults.js';
import type { FaultReport } from '../contracts/incident.js';

/** A connector's status as either protocol version reported it, normalised. */
export interface ConnectorStatusChanged {
  chargerId: string;
  connectorId: number;
  status: string;
  errorCode: string | null;
  vendorErrorCode: string | null;
  info: string | null;
  at: string;
  protocol: string;
  payload: unknown;
}

/** The outbox event that opens or feeds the incident of one connector. */
export interface FaultEvent {
  kind: 'fault';
  chargerId: string;
  connectorId: number;
  priority: Priority;
  fault: FaultReport;
}

export type OutboxEvent = FaultEvent;
