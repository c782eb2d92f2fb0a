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

/** What either protocol's BootNotification says about the charger. */
export interface BootInfo {
  vendor: string;
  model: string;
  serialNumber: string | null;
  firmwareVersion: string | null;
}

/** Records a boot and accepts it, with our heartbeat interval (the answer is the same in 1.6 and 2.0.1). */
export async function acceptBoot(ctx: HandlerContext, boot: BootInfo) {
  await ctx.db
    .updateTable('chargers')
    .set({ ...boot, bootedAt: new Date() })
    .where('id', '=', ctx.chargerId)
    .execute();
  return { status: 'Accepted', currentTime: new Date().toISOString(), interval: ctx.heartbeatIntervalSeconds };
}

/** The Heartbeat answer of both protocol versions. */
export const heartbeat = async () => ({ currentTime: new Date().toISOString() });
