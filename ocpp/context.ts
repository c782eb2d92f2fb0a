import type { Db } from '../db/connect.js';
import type { Logger } from '../runtime/log.js';

/** What a protocol handler needs to know about the charger it serves and where to put what it hears. */
export interface HandlerContext {
  db: Db;
  log: Logger;
  chargerId: string;
  protocol: string;
  heartbeatIntervalSeconds: number;
  /** Tells the outbox relay that new events are waiting. */
  outboxChanged(): void;
}

/** The charger's timestamp when it sent a usable one, otherwise the time we received the message. */
export function reportedAt(timestamp: unknown): string {
  if (typeof timestamp === 'string') {
    const parsed = new Date(timestamp);
    if (!Number.isNaN(parsed.getTime())) return parsed.toISOString();
  }
  return new Date().toISOString();
}
