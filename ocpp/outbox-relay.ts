import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/connect.js';
import { incidentTerms } from '../contracts/agreement-terms.js';
import { incidentWorkflowId, type IncidentInput } from '../contracts/incident.js';
import type { SlaTargets } from '../contracts/sla.js';
import { agreementForCharger } from '../runtime/agreement-store.js';
import type { Logger } from '../runtime/log.js';
import { faultReported, incidentWorkflow } from '../workflows/incident.js';
import type { FaultEvent, OutboxEvent } from './events.js';

export interface OutboxRelayOptions {
  db: Db;
  temporal: Client;
  taskQueue: string;
  incidentSla: SlaTargets;
  log: Logger;
  batchSize?: number;
  /** Poll interval when nobody says events are waiting (other processes may write the outbox). */
  idleMs?: number;
}

const MAX_BACKOFF_MS = 60_000;
/** A delivery that takes longer counts as failed: the client would otherwise retry for a long time while every other event waits. */
const DELIVERY_TIMEOUT_MS = 5_000;

/**
 * Delivers outbox events to Temporal, oldest first and in order per charger. An event that cannot
 * be delivered (Temporal down) stays, with exponential backoff; its charger's later events wait
 * behind it, other chargers' events go on.
 */
export function startOutboxRelay(options: OutboxRelayOptions) {
  const { db, temporal, log } = options;
  const batchSize = options.batchSize ?? 100;
  const idleMs = options.idleMs ?? 1_000;
  let running = true;
  let wake: AbortController = new AbortController();

  async function deliver(event: OutboxEvent): Promise<void> {
    switch (event.kind) {
      case 'fault': {
        const input = await incidentInput(event);
        const start = () =>
          temporal.workflow.signalWithStart(incidentWorkflow, {
            workflowId: incidentWorkflowId(event.chargerId, event.connectorId),
            taskQueue: options.taskQueue,
            args: [input],
            signal: faultReported,
            signalArgs: [event.fault],
          });
        await temporal.withDeadline(Date.now() + DELIVERY_TIMEOUT_MS, start);
      }
    }
  }

  /**
   * The terms a new incident starts under: the charger's agreement version in force (priority from
   * its fault classes, SLA targets on its calendar), else the configured defaults. Only used when the
   * workflow starts; a running incident keeps its terms.
   */
  async function incidentInput(event: FaultEvent): Promise<IncidentInput> {
    const base = { chargerId: event.chargerId, connectorId: event.connectorId };
    const inForce = await agreementForCharger(db, event.chargerId);
    const terms = inForce && incidentTerms(inForce.agreement, inForce.version, event.chargerId, { status: event.fault.status, errorCode: event.fault.errorCode, event: 'faulted' });
    if (!terms) return { ...base, priority: event.priority, sla: options.incidentSla, agreement: null };
    return { ...base, priority: terms.priority, sla: terms.sla, agreement: { id: terms.agreementId, version: terms.agreementVersion, faultClass: terms.faultClass } };
  }

  /** One pass over the pending events; returns how many were delivered. */
  async function relayOnce(): Promise<number> {
    // Each charger's oldest pending event only, so one charger's backlog never fills the batch.
    const heads = db.selectFrom('outbox').distinctOn('chargerId').selectAll().where('deliveredAt', 'is', null).orderBy('chargerId').orderBy('id');
    const due = await db
      .selectFrom(heads.as('head'))
      .selectAll()
      .where('nextAttemptAt', '<=', new Date())
      .orderBy('id')
      .limit(batchSize)
      .execute();
    let delivered = 0;
    for (const row of due) {
      if (!running) break;
      try {
        await deliver(row.payload as OutboxEvent);
        await db.updateTable('outbox').set({ deliveredAt: new Date() }).where('id', '=', row.id).execute();
        delivered++;
      } catch (error) {
        const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** row.attempts);
        log.warn({ err: error, outboxId: row.id, attempts: row.attempts + 1, retryInMs: backoff }, 'outbox event not delivered yet');
        await db
          .updateTable('outbox')
          .set({ attempts: row.attempts + 1, lastError: String(error), nextAttemptAt: new Date(Date.now() + backoff) })
          .where('id', '=', row.id)
          .execute();
        // Most failures are Temporal being unreachable: end the pass rather than wait out every charger's timeout.
        break;
      }
    }
    return delivered;
  }

  const loop = (async () => {
    while (running) {
      let delivered = 0;
      try {
        delivered = await relayOnce();
      } catch (error) {
        log.error({ err: error }, 'outbox relay pass failed');
      }
      if (delivered === 0 && running) {
        await sleep(idleMs, undefined, { signal: wake.signal }).catch(() => undefined);
        wake = new AbortController();
      }
    }
  })();

  return {
    /** New events are waiting: look now instead of at the next poll. */
    kick() {
      wake.abort();
    },
    async stop() {
      running = false;
      wake.abort();
      await loop;
    },
  };
}

export type OutboxRelay = ReturnType<typeof startOutboxRelay>;
