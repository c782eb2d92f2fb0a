import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isGrpcServiceError, ServiceError, type Client } from '@temporalio/client';
import { sql } from 'kysely';
import pMap from 'p-map';
import type { Db } from '../db/connect.js';
import { permanentSqlState } from '../db/refusals.js';
import { durationMs } from '../contracts/agreement.js';
import { siteIncidentChargerId, siteOf } from '../contracts/agreement-terms.js';
import { connectivityWorkflowId } from '../contracts/connectivity.js';
import { incidentWorkflowId, type ChargerReport } from '../contracts/incident.js';
import type { SlaTargets } from '../contracts/sla.js';
import { agreementForCharger } from '../agreements/store.js';
import { incidentInputFor, siteIncidentInputFor } from './incident-input.js';
import type { Logger } from '../platform/log.js';
import { noteStarted, notesOn, signalIfNoted } from './started-workflows.js';
import { chargerConnected, chargerDisconnected } from '../workflows/connectivity/messages.js';
import { connectivityWatch } from '../workflows/connectivity/workflow.js';
import { chargerReported } from '../workflows/incident/messages.js';
import { openOrJoinIncident } from './incidents.js';
import type { ConnectivityEvent, OutboxEvent } from '../ocpp/events.js';

export interface OutboxRelayOptions {
  db: Db;
  temporal: Client;
  taskQueue: string;
  incidentSla: SlaTargets;
  /** Names this process in the lease (e.g. its gateway node), for operators and tests. */
  processName: string;
  /** Offline grace for chargers no agreement covers. */
  offlineGraceMs: number;
  log: Logger;
  batchSize?: number;
  /** How many chargers' events are delivered at once (each charger's in order). */
  concurrency?: number;
  /** Poll interval when nobody says events are waiting (other processes may write the outbox). */
  idleMs?: number;
  /** Delivered events are deleted this long after delivery. */
  retentionMs: number;
}

const MAX_BACKOFF_MS = 60_000;
/** gRPC status codes of requests Temporal will never accept (bad data; a message over its size limit). */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;
/** A delivery that takes longer counts as failed: the client would otherwise retry for a long time while every other event waits. */
const DELIVERY_TIMEOUT_MS = 5_000;
/** Only the lease holder relays; a holder that stops renewing is replaced after this long. */
const LEASE_SECONDS = 15;
const LEASE_RENEW_MS = 5_000;
/** How often the lease holder deletes delivered events past their retention, and how many per statement. */
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_SLICE = 5_000;

/**
 * Delivers outbox events to Temporal, oldest first and in order per charger, several chargers'
 * events at once. An event that cannot be delivered (Temporal down) stays, with exponential
 * backoff; its charger's later events wait behind it, other chargers' events go on. Every process runs a relay; the one holding the lease
 * in the database delivers, the others stand by, so per-charger order holds across processes.
 */
export function startOutboxRelay(options: OutboxRelayOptions) {
  const { db, temporal, log } = options;
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 16;
  const idleMs = options.idleMs ?? 1_000;
  const holder = `${options.processName}:${process.pid}:${randomUUID()}`;
  let leaseRenewedAt = 0;
  let running = true;
  let wake: AbortController = new AbortController();

  const withinDeadline = <T>(fn: () => Promise<T>) => temporal.withDeadline(Date.now() + DELIVERY_TIMEOUT_MS, fn);

  const anySiteIncidentNoted = async () =>
    (await db.selectFrom('startedWorkflows').select('workflowId').where('workflowId', 'like', incidentWorkflowId(siteIncidentChargerId('%'), 0)).limit(1).executeTakeFirst()) !== undefined;

  /** The workflows an event is told to if they run; events that start workflows have none. */
  function listenersOf(event: OutboxEvent): string[] {
    if (event.kind === 'connected') return [connectivityWorkflowId(event.chargerId), incidentWorkflowId(event.chargerId, 0)];
    if (event.kind === 'status') return [incidentWorkflowId(event.chargerId, event.connectorId)];
    return [];
  }

  /**
   * `pass.notes`: what `started_workflows` held, at the start of the pass, on the events' listeners;
   * `pass.siteIncidentsNoted`: whether any site incident may be running.
   */
  async function deliver(event: OutboxEvent, pass: { notes: Map<string, string>; siteIncidentsNoted: boolean }): Promise<void> {
    const { notes } = pass;
    switch (event.kind) {
      case 'fault': {
        const opening = { connectorId: event.connectorId, source: event.event === 'offline' ? 'offline' : 'fault', fault: event.fault, techCode: event.techCode, defaultPriority: event.priority } as const;
        const input = event.site
          ? await siteIncidentInputFor(db, event.chargerId, event.site.id, opening.fault)
          : await incidentInputFor(db, { ...opening, chargerId: event.chargerId }, options.incidentSla);
        if (!input) return; // the agreement changed since: nothing to open
        await withinDeadline(() => openOrJoinIncident(db, temporal, options.taskQueue, input, event.fault));
        return;
      }
      case 'disconnected': {
        const graceMs = await offlineGraceMs(event);
        const change = { chargerId: event.chargerId, connectionId: event.connectionId, at: event.at };
        const workflowId = connectivityWorkflowId(event.chargerId);
        await noteStarted(db, workflowId);
        await withinDeadline(() =>
          temporal.workflow.signalWithStart(connectivityWatch, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [{ chargerId: event.chargerId, graceMs }],
            signal: chargerDisconnected,
            signalArgs: [change],
          }),
        );
        return;
      }
      case 'connected': {
        // Ends a running watch, and tells a running offline incident the charger is back; with none running there is nothing to tell.
        const change = { chargerId: event.chargerId, connectionId: event.connectionId, at: event.at };
        const watch = connectivityWorkflowId(event.chargerId);
        await signalIfNoted(db, watch, notes.get(watch), () => withinDeadline(() => temporal.workflow.getHandle(watch).signal(chargerConnected, change)));
        const online: ChargerReport = { eventId: `connected:${event.connectionId}`, kind: 'online', status: 'Online', at: event.at };
        await tellIncident(notes, event.chargerId, 0, online);
        if (pass.siteIncidentsNoted) await tellSiteIfBack(event.chargerId, online);
        return;
      }
      case 'status':
        await tellIncident(notes, event.chargerId, event.connectorId, event.signal);
        return;
    }
  }

  /** Signals a connector's running incident; no incident running means nobody needs to know. */
  async function tellIncident(notes: Map<string, string>, chargerId: string, connectorId: number, signal: ChargerReport) {
    const workflowId = incidentWorkflowId(chargerId, connectorId);
    await signalIfNoted(db, workflowId, notes.get(workflowId), () => withinDeadline(() => temporal.workflow.getHandle(workflowId).signal(chargerReported, signal)));
  }

  /**
   * A dark site's incident hears that the site is back once every charger of the site is connected
   * again (its verification then starts); until then it stays open, listing the chargers still away.
   */
  async function tellSiteIfBack(chargerId: string, online: ChargerReport) {
    const inForce = await agreementForCharger(db, chargerId);
    const site = inForce && siteOf(inForce.agreement, chargerId);
    if (!site) return;
    const workflowId = incidentWorkflowId(siteIncidentChargerId(site.id), 0);
    const generation = (await notesOn(db, [workflowId])).get(workflowId);
    if (generation === undefined) return;
    const ids = site.chargers.map((c) => c.id);
    const away = await db.selectFrom('chargers').select('id').where('id', 'in', ids).where('connected', '=', false).execute();
    if (away.length > 0) return;
    await signalIfNoted(db, workflowId, generation, () => withinDeadline(() => temporal.workflow.getHandle(workflowId).signal(chargerReported, { ...online, eventId: `site-back:${online.eventId}` })));
  }

  async function offlineGraceMs(event: ConnectivityEvent): Promise<number> {
    const inForce = await agreementForCharger(db, event.chargerId);
    return inForce ? durationMs(inForce.agreement.incidents.offlineGracePeriod) : options.offlineGraceMs;
  }

  /** Takes or renews the relay lease; false while another live process holds it. Concurrent callers share one renewal. */
  let renewal: Promise<boolean> | null = null;
  function holdLease(): Promise<boolean> {
    if (Date.now() - leaseRenewedAt < LEASE_RENEW_MS) return Promise.resolve(true);
    renewal ??= renewLease().finally(() => (renewal = null));
    return renewal;
  }

  async function renewLease(): Promise<boolean> {
    const row = await db
      .insertInto('leases')
      .values({ name: 'outbox-relay', holder, expiresAt: sql<Date>`now() + make_interval(secs => ${LEASE_SECONDS})` })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), expiresAt: eb.ref('excluded.expiresAt') }))
          .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expiresAt', '<', sql<Date>`now()`)])),
      )
      .returning('holder')
      .executeTakeFirst();
    leaseRenewedAt = row ? Date.now() : 0;
    return row !== undefined;
  }

  /**
   * Deletes delivered events older than the retention, a slice at a time so that other statements
   * get the database in between. Pending events are never deleted, however old.
   */
  let prunedAt = 0;
  async function pruneDelivered(): Promise<number> {
    if (Date.now() - prunedAt < PRUNE_EVERY_MS) return 0;
    prunedAt = Date.now();
    const before = new Date(Date.now() - options.retentionMs);
    let deleted = 0;
    while (running) {
      const slice = db.selectFrom('outbox').select('id').where('deliveredAt', '<', before).limit(PRUNE_SLICE);
      const { numDeletedRows } = await db.deleteFrom('outbox').where('id', 'in', slice).executeTakeFirst();
      deleted += Number(numDeletedRows);
      if (numDeletedRows < BigInt(PRUNE_SLICE)) break;
    }
    if (deleted > 0) log.info({ deleted, deliveredBefore: before.toISOString() }, 'outbox: delivered events past their retention deleted');
    return deleted;
  }

  /** One pass over the pending events; returns how many were delivered. */
  async function relayOnce(): Promise<number> {
    if (!(await holdLease())) return 0;
    await pruneDelivered();
    // Each charger's oldest pending event only, so one charger's backlog never fills the batch.
    const heads = db.selectFrom('outbox').distinctOn('chargerId').selectAll().where('deliveredAt', 'is', null).where('deadLetteredAt', 'is', null).orderBy('chargerId').orderBy('id');
    const due = await db
      .selectFrom(heads.as('head'))
      .selectAll()
      .where('nextAttemptAt', '<=', new Date())
      .orderBy('id')
      .limit(batchSize)
      .execute();
    const events = due.map((row) => withReceipt(row.payload as OutboxEvent, row.createdAt));
    const listeners = events.map(listenersOf);
    const notes = await notesOn(db, listeners.flat());
    // Site incidents are rare: a reconnect looks up its charger's site only while one may be running.
    const siteIncidentsNoted = events.some((e) => e.kind === 'connected') && (await anySiteIncidentNoted());
    // Each charger has one event in the batch, so delivering several at once keeps every
    // charger's order. Events that start workflows go first, then those that tell running ones: a
    // charger back online hears of a site incident another charger's event opened in the same pass.
    // An event that starts a workflow is marked delivered as soon as it is, so a crash redelivers
    // at most those in flight. Events that only tell running workflows are marked together at the
    // end of the pass: a redelivered one is ignored by its workflow (event ids) or finds nobody to tell.
    const toldOnly: string[] = [];
    const markDelivered = async (ids: string[]) => {
      if (ids.length > 0) await db.updateTable('outbox').set({ deliveredAt: new Date() }).where('id', 'in', ids).execute();
    };
    let delivered = 0;
    let stopping = false;
    try {
      const order = [...due.keys()].sort((a, b) => Number(listeners[a]!.length > 0) - Number(listeners[b]!.length > 0));
      await pMap(
        order,
        async (i) => {
          const row = due[i]!;
          if (stopping || !running || !(await holdLease())) {
            stopping = true;
            return;
          }
          try {
            await deliver(events[i]!, { notes, siteIncidentsNoted });
          } catch (error) {
            const refusal = refusedForGood(error);
            if (refusal) {
              // Retrying cannot help, and the charger's later events wait behind this one: set it aside.
              log.error({ err: error, outboxId: row.id, chargerId: row.chargerId, kind: row.kind, cause: refusal }, 'outbox event refused for good; set aside (dead-lettered), the charger’s later events go on');
              await db.updateTable('outbox').set({ attempts: row.attempts + 1, lastError: `${refusal}: ${String(error)}`, deadLetteredAt: new Date() }).where('id', '=', row.id).execute();
              return;
            }
            // Most failures are Temporal being unreachable: end the pass rather than wait out every charger's timeout.
            stopping = true;
            const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** row.attempts);
            log.warn({ err: error, outboxId: row.id, attempts: row.attempts + 1, retryInMs: backoff }, 'outbox event not delivered yet');
            await db
              .updateTable('outbox')
              .set({ attempts: row.attempts + 1, lastError: String(error), nextAttemptAt: new Date(Date.now() + backoff) })
              .where('id', '=', row.id)
              .execute();
            return;
          }
          if (listeners[i]!.length > 0) toldOnly.push(row.id);
          else await markDelivered([row.id]);
          delivered++;
        },
        { concurrency },
      );
    } finally {
      await markDelivered(toldOnly);
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
      // Hand over at once instead of after the lease runs out.
      await db.deleteFrom('leases').where('name', '=', 'outbox-relay').where('holder', '=', holder).execute().catch(() => undefined);
    },
  };
}

export type OutboxRelay = ReturnType<typeof startOutboxRelay>;

/**
 * Why an event can never be delivered, or null when a retry may succeed: Temporal refusing the
 * request itself (an invalid argument, such as an id over its length limit, or a message over its
 * size limit) or the database refusing the relay's own writes for it. Unreachable servers,
 * timeouts, rate limits and the like are retried.
 */
function refusedForGood(error: unknown): string | null {
  if (error instanceof ServiceError && isGrpcServiceError(error.cause)) {
    const { code, details } = error.cause;
    if (code === GRPC_INVALID_ARGUMENT) return `Temporal refused the request (INVALID_ARGUMENT: ${details})`;
    // RESOURCE_EXHAUSTED is also a rate limit, which passes; a message over the server's size limit never does.
    if (code === GRPC_RESOURCE_EXHAUSTED && /larger than max/.test(details)) return `the request is larger than Temporal accepts (${details})`;
  }
  const sqlState = permanentSqlState(error);
  return sqlState ? `the database refused the data (SQLSTATE ${sqlState})` : null;
}

/**
 * A fault carries when Concierge received it (the outbox row's time), besides the time the
 * charger gave it: delivered late (a backlog, a restart), it is still known to predate a fix.
 */
function withReceipt(event: OutboxEvent, createdAt: Date): OutboxEvent {
  return event.kind === 'fault' ? { ...event, fault: { ...event.fault, receivedAt: createdAt.toISOString() } } : event;
}
