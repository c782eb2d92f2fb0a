import type { Connector, ResetReason, Session, SessionEndReason } from './connector.js';
import type { SimulatorOptions } from './options.js';

/**
 * What differs between OCPP 1.6 and 2.0.1 for a simulated charger: the messages it sends and the
 * server commands it answers. The charger (charger.ts) decides when; a version decides what is said.
 */
export interface ProtocolVersion {
  /** The WebSocket subprotocol. */
  readonly subprotocol: 'ocpp1.6' | 'ocpp2.0.1';
  bootNotification(reason: BootReason): object;
  /** The connector's state as a StatusNotification. */
  statusNotification(connector: Connector): object;
  meterValues(connector: Connector): object;
  /** The periodic reading of a connector: the action and its payload. */
  periodicReading(connector: Connector): [action: string, params: object];
  /** Reports the start of a session; resolves to whether the server took it, the session then set on the connector. */
  startTransaction(connector: Connector, idTag: string, powerW: number): Promise<boolean>;
  stopTransaction(connector: Connector, session: Session, reason: SessionEndReason): Promise<void>;
  /** Reports a connector that has just left its session (or a refused start) as Available again. */
  reportSessionOver(connector: Connector): Promise<void>;
  /** Reports the connector Faulted; resolves to whether the server answered the status. */
  reportFault(connector: Connector): Promise<boolean>;
  /** Reports the fault cleared; resolves to whether the server answered the status. */
  reportCleared(connector: Connector): Promise<boolean>;
  /** The answer to each server command this version handles. */
  commands(charger: ChargerControls): Record<string, CommandAnswer>;
}

export type BootReason = 'PowerUp' | 'RemoteReset';

/** What a version may use of its charger. */
export interface ChargerLink {
  readonly id: string;
  readonly options: SimulatorOptions;
  /** A call whose failure is already counted: resolves to its result, or false. */
  send(action: string, params: object): Promise<unknown>;
}

/** What the server's commands may ask of a charger. */
export interface ChargerControls {
  connectorIds(): number[];
  /** Reset: end sessions, drop the socket, come back and boot again. */
  reboot(reason: ResetReason): void;
  changeAvailability(connectorIds: number[], operative: boolean): void;
  /** Sends what TriggerMessage asked for after the answer; false if it is not one the charger sends. */
  trigger(message: string, connectorId: number | undefined): boolean;
  remoteStart(): { status: string };
  remoteStop(transactionId: unknown): { status: string };
}

export type CommandAnswer = (params: Record<string, unknown>) => Record<string, unknown>;
