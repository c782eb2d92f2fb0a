import type { Priority } from '../contracts/faults.js';
import type { ChargerReport, FaultReport } from '../contracts/incident.js';

/*
 * The few domain events both protocol versions are translated into. Nothing downstream of the
 * protocol handlers knows which OCPP version a charger speaks.
 */

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

/** A problem the charger reported about itself or a connector (2.0.1 NotifyEvent), raised or cleared. */
export interface DeviceProblem {
  connectorId: number;
  /** `techCode` when given (often a ChargeX MREC code), else component.variable. */
  errorCode: string;
  /** The ChargeX MREC code, when the tech code is one. */
  mrecCode: string | null;
  info: string | null;
  cleared: boolean;
  at: string;
  eventId: string;
}

/** A register reading that moves a session on; `value × 10^exponent` is the reading in Wh. */
export interface EnergyReading {
  value: string;
  exponent: number;
}

/** What a charger said about a charging session, in either protocol's words. */
export interface SessionEvent {
  kind: 'started' | 'updated' | 'ended';
  connectorId: number;
  /** The charger's transaction id (2.0.1), or the one we handed out (1.6). */
  transactionId: string;
  idTag: string | null;
  at: string;
  register: EnergyReading | null;
  stopReason: string | null;
  seqNo: number | null;
}

/** Facts kept in the charger event log: connectivity, firmware, diagnostics/logs, security, data transfer, device events. */
export type ChargerEventKind = 'connected' | 'disconnected' | 'command' | 'firmware-status' | 'log-status' | 'security-event' | 'data-transfer' | 'device-event';

/** The outbox event that opens or feeds the incident of one connector. */
export interface FaultEvent {
  kind: 'fault';
  chargerId: string;
  connectorId: number;
  priority: Priority;
  /** What fault classes match on beyond the error code, e.g. an MREC tech code. */
  techCode?: string | null;
  /** What raised it: a fault report, or the connectivity watch finding the charger offline. */
  event?: 'faulted' | 'offline';
  /** Set when the whole site is down: the fault belongs to the site's incident. */
  site?: { id: string };
  fault: FaultReport;
}

/** The outbox events that drive a charger's connectivity watch. */
export interface ConnectivityEvent {
  kind: 'connected' | 'disconnected';
  chargerId: string;
  connectionId: string;
  at: string;
}

/** A report that is not a fault — a status, a completed session — for the connector's incident, if one is running. */
export interface ChargerSignalEvent {
  kind: 'status';
  chargerId: string;
  connectorId: number;
  signal: ChargerReport;
}

export type OutboxEvent = FaultEvent | ConnectivityEvent | ChargerSignalEvent;
