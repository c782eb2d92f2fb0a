export type ConnectorState = 'Available' | 'Charging' | 'Faulted' | 'Unavailable';

export interface Session {
  /** 1.6: the integer the server handed out; 2.0.1: chosen by the charger. */
  transactionId: number | string;
  idTag: string;
  /** 2.0.1: the TransactionEvent sequence number. */
  seqNo: number;
  powerW: number;
  timer: NodeJS.Timeout | undefined;
}

/** A connector of a simulated charger (2.0.1: an EVSE with one connector): its state, its session, its energy meter. */
export interface Connector {
  id: number;
  state: ConnectorState;
  /** Energy.Active.Import.Register in Wh; grows while charging. */
  energyWh: number;
  energyAt: number;
  session: Session | null;
  clearTimer: NodeJS.Timeout | undefined;
  /** The last meter reading's time: readings of one connector never share an instant, as with a real meter. */
  readAt: number;
}

/** Why a session ends: the charger's own stop, a fault, a remote stop, or a reset. */
export type SessionEndReason = 'Local' | 'Other' | 'Remote' | ResetReason;
export type ResetReason = 'HardReset' | 'SoftReset' | 'ImmediateReset';

/** Adds the energy charged since the last reading to the register. */
export function accrue(connector: Connector): void {
  const at = Date.now();
  if (connector.session) connector.energyWh += (connector.session.powerW * (at - connector.energyAt)) / 3_600_000;
  connector.energyAt = at;
}

/** A reading's timestamp: now, or a millisecond after the connector's last reading. */
export function readingTime(connector: Connector): string {
  connector.readAt = Math.max(Date.now(), connector.readAt + 1);
  return new Date(connector.readAt).toISOString();
}

export function now(): string {
  return new Date().toISOString();
}
