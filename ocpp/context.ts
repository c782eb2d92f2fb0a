import type { Db } from '../db/connect.js';
import { authorizeIdTag, type AccessDecision } from '../contracts/access.js';
import { agreementForCharger } from '../agreements/store.js';
import type { Logger } from '../platform/log.js';
import type { BootRecorder } from './boots.js';
import { storableTime } from './bounds.js';
import type { MeterWriter } from './meter-writer.js';
import type { StatusWriter } from './status.js';

/** What a protocol handler needs to know about the charger it serves and where to put what it hears. */
export interface HandlerContext {
  db: Db;
  log: Logger;
  chargerId: string;
  protocol: string;
  heartbeatIntervalSeconds: number;
  /** Tells the outbox relay that new events are waiting. */
  outboxChanged(): void;
  meters: MeterWriter;
  statuses: StatusWriter;
  boots: BootRecorder;
  /** Resolves once this connection is recorded (connected, on this gateway). */
  recorded: Promise<void>;
}

/** The charger's timestamp when it sent a usable one (storableTime), otherwise the time we received the message. */
export function reportedAt(timestamp: unknown): string {
  return storableTime(timestamp) ?? new Date().toISOString();
}

/** What either protocol's BootNotification says about the charger. */
export interface BootInfo {
  vendor: string;
  model: string;
  serialNumber: string | null;
  firmwareVersion: string | null;
}

/**
 * Records a boot and answers it with our heartbeat interval (the same answer in 1.6 and 2.0.1):
 * Accepted for an active charger, Pending for one registered but not yet commissioned.
 */
export async function answerBoot(ctx: HandlerContext, boot: BootInfo) {
  // A charger that is told Accepted is known to be connected: commands can reach it from then on.
  await ctx.recorded;
  const state = await ctx.boots.record(ctx.chargerId, boot);
  const status = state === 'active' ? 'Accepted' : 'Pending';
  return { status, currentTime: new Date().toISOString(), interval: ctx.heartbeatIntervalSeconds };
}

/** Whether an id tag may charge here, under the agreement in force for the charger. */
export async function authorize(ctx: HandlerContext, idTag: string): Promise<AccessDecision> {
  const inForce = await agreementForCharger(ctx.db, ctx.chargerId);
  const decision = authorizeIdTag(inForce?.agreement ?? null, idTag);
  if (decision !== 'Accepted') ctx.log.info({ idTag }, 'id tag refused');
  return decision;
}

/** The Heartbeat answer of both protocol versions. */
export const heartbeat = async () => ({ currentTime: new Date().toISOString() });
