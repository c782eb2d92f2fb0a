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
