import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { ConnectivityEvent } from './events.js';
import { createGroupCommit } from './group-commit.js';
import { GATEWAY_WENT_AWAY } from '../contracts/connectivity.js';

/** A socket opened or closed; a close carries what the WebSocket said (code, reason). */
type ConnectionChange =
  | { kind: 'connected'; chargerId: string; connectionId: string; protocol: string; at: string }
  | { kind: 'disconnected'; chargerId: string; connectionId: string; at: string; byGateway: boolean; detail: Record<string, unknown> };

/** Chargers marked disconnected per transaction when a gateway starts or stops. */
const FORGET_SLICE = 500;

/**
 * The charger → gateway map in `chargers` (connected, on which node, through which connection),
 * with each change in the charger event log and, for the connectivity watch, in the outbox.
 *
 * Every connection gets a connection id, and a disconnect is recorded only if the charger's row
 * still holds that id: a socket closing late, after the charger connected again (here or on
 * another gateway), does not make it look offline.
 *
 * Changes are group-committed: a reconnect storm (a gateway restart, a site's network back) or a
 * mass disconnect writes hundreds of chargers per transaction, not a transaction each.
 *
 * `clock` says when a charger connected or disconnected: the system clock, unless a simulation of
 * a past month supplies its own (its offline periods then fall in that month).
 */
export function createConnectionRecorder(db: Db, node: string, outboxChanged: () => void, clock: () => Date = () => new Date()) {
  const commit = createGroupCommit((changes: ConnectionChange[]) => record(changes));

  /**
   * One transaction: the connects first, then the disconnects that still match their connection.
   * A charger connecting twice in one batch keeps its last connection; each connect is logged.
   */
  async function record(changes: ConnectionChange[]) {
    const connects = changes.filter((c) => c.kind === 'connected');
    const disconnects = changes.filter((c) => c.kind === 'disconnected');
    const queued = await db.transaction().execute(async (trx) => {
      if (connects.length > 0) {
        const latest = [...new Map(connects.map((c) => [c.chargerId, c])).values()];
        await sql`
          update chargers as c
          set connected = true, gateway_node = ${node}, connection_id = v."connectionId", protocol = v.protocol, connected_at = v.at, last_seen_at = v.at,
            disconnected_by_gateway = false, gateway_back_at = null
          from json_to_recordset(${JSON.stringify(latest)}::json) as v("chargerId" text, "connectionId" text, protocol text, at timestamptz)
          where c.id = v."chargerId"
        `.execute(trx);
        await queueConnectivity(
          trx,
          connects.map((c) => ({ event: { kind: 'connected', chargerId: c.chargerId, connectionId: c.connectionId, at: c.at }, detail: { node, protocol: c.protocol } })),
        );
      }
      if (disconnects.length === 0) return connects.length;
      const { rows } = await sql<{ id: string; connectionId: string }>`
        update chargers as c
        set connected = false, last_seen_at = v.at, disconnected_by_gateway = v."byGateway", gateway_back_at = null
        from json_to_recordset(${JSON.stringify(disconnects)}::json) as v("chargerId" text, "connectionId" text, at timestamptz, "byGateway" boolean)
        where c.id = v."chargerId" and coalesce(c.connection_id, '') = v."connectionId" and c.connected
        returning c.id, coalesce(c.connection_id, '') as "connectionId"
      `.execute(trx);
      const marked = new Set(rows.map((r) => `${r.id}\u0000${r.connectionId}`));
      const gone = disconnects.filter((d) => marked.has(`${d.chargerId}\u0000${d.connectionId}`));
      await queueConnectivity(
        trx,
        gone.map((d) => ({ event: { kind: 'disconnected', chargerId: d.chargerId, connectionId: d.connectionId, at: d.at }, detail: { node, ...d.detail } })),
      );
      return connects.length + gone.length;
    });
    if (queued > 0) outboxChanged();
  }

  /** The event log's rows and the connectivity watches' outbox events, in the caller's transaction. */
  async function queueConnectivity(trx: Db, entries: Array<{ event: ConnectivityEvent; detail: Record<string, unknown> }>) {
    if (entries.length === 0) return;
    await trx
      .insertInto('chargerEvents')
      .values(entries.map(({ event, detail }) => ({ chargerId: event.chargerId, kind: event.kind, at: event.at, data: JSON.stringify({ connectionId: event.connectionId, ...detail }) })))
      .execute();
    await trx
      .insertInto('outbox')
      .values(entries.map(({ event }) => ({ chargerId: event.chargerId, kind: event.kind, payload: JSON.stringify(event) })))
      .execute();
  }

  return {
    /**
     * This gateway takes connections again: the chargers it disconnected itself (at its stop, or
     * after its crash) could reconnect from now, so their absence counts from now.
     */
    async back() {
      await db
        .updateTable('chargers')
        .set({ gatewayBackAt: new Date() })
        .where('gatewayNode', '=', node)
        .where('connected', '=', false)
        .where('disconnectedByGateway', '=', true)
        .where('gatewayBackAt', 'is', null)
        .execute();
    },

    /** Resolves once the charger is recorded connected through this connection, on this node. */
    connected: (chargerId: string, connectionId: string, protocol: string) => commit.add({ kind: 'connected', chargerId, connectionId, protocol, at: clock().toISOString() }),

    /** Resolves once the disconnect is recorded, if this connection still held the charger. */
    disconnected: (chargerId: string, connectionId: string, detail: Record<string, unknown>) =>
      commit.add({ kind: 'disconnected', chargerId, connectionId, at: clock().toISOString(), byGateway: false, detail }),

    /**
     * Marks this node's chargers disconnected, each with its disconnect event: at start after a
     * crash (live chargers reconnect within the offline grace) and at shutdown (they reconnect
     * elsewhere). A charger that connected again meanwhile (a new connection id) stays connected.
     */
    async forgetPrevious() {
      const held = await db.selectFrom('chargers').select(['id', 'connectionId']).where('gatewayNode', '=', node).where('connected', '=', true).execute();
      for (let i = 0; i < held.length; i += FORGET_SLICE) {
        const at = new Date().toISOString();
        await record(held.slice(i, i + FORGET_SLICE).map((c) => ({ kind: 'disconnected', chargerId: c.id, connectionId: c.connectionId ?? '', at, byGateway: true, detail: { reason: GATEWAY_WENT_AWAY } })));
      }
    },
  };
}
