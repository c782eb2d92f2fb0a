/** A charger's socket came or went, as the gateway recorded it. */
export interface ConnectivityChange {
  chargerId: string;
  /** The socket's generation: a reconnect has a new one. */
  connectionId: string;
  at: string;
}

export interface ConnectivityWatchInput {
  chargerId: string;
  /** How long a charger may be away before it counts as offline (the agreement's offline grace period). */
  graceMs: number;
}

export const connectivityWorkflowId = (chargerId: string) => `connectivity:${chargerId}`;

/** The task queue of one gateway process: commands run where the charger's socket is. */
export const gatewayTaskQueue = (taskQueue: string, node: string) => `${taskQueue}:gateway:${node}`;

/** What the database knows of a charger's connection, for the offline rules below. */
export interface ConnectionFacts {
  connected: boolean;
  /** Disconnected by Concierge's own gateway stopping, restarting or crashing, not by the charger. */
  disconnectedByGateway: boolean;
  /** When a gateway was back for it, after such a disconnect. */
  gatewayBackAt: Date | null;
  /** The disconnect (nothing updates it while the charger is away). */
  lastSeenAt: Date | null;
}

/**
 * From when a charger's absence counts toward the offline grace and the whole-site-down rule. A
 * charger that went away itself: from its disconnect. One that Concierge disconnected (its gateway
 * stopped, restarted or crashed): from when a gateway was back for it, since until then it could
 * not reconnect; if none came back, from one grace period after the disconnect, so a gateway that
 * is gone for good delays an outage by at most one grace period.
 */
export function absenceCountsFrom(charger: ConnectionFacts, graceMs: number): Date | null {
  if (charger.connected || !charger.lastSeenAt) return null;
  if (!charger.disconnectedByGateway) return charger.lastSeenAt;
  return charger.gatewayBackAt ?? new Date(charger.lastSeenAt.getTime() + graceMs);
}

/**
 * Whether a charger counts as offline now for the whole-site-down rule: away of its own doing
 * (at once, as before), or Concierge-disconnected and still away a grace period after it could
 * have reconnected. A registered charger never connected counts as offline.
 */
export function countsAsOffline(charger: ConnectionFacts, now: Date, graceMs: number): boolean {
  if (charger.connected) return false;
  if (!charger.disconnectedByGateway) return true;
  const from = absenceCountsFrom(charger, graceMs);
  return from !== null && from.getTime() + graceMs <= now.getTime();
}

/** The reason the event log gives a disconnect our own gateway caused (its stop, restart or crash), not the charger. */
export const GATEWAY_WENT_AWAY = 'gateway restarted or stopped';
