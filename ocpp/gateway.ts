import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { sql } from 'kysely';
import { RPCServer } from 'ocpp-rpc';
import { CHARGER_ID } from '../contracts/agreement.js';
import { storableCopy, storableText } from '../contracts/storable-text.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../platform/log.js';
import { hashPassword, verifyPassword } from '../platform/secrets.js';
import type { HandlerContext } from './context.js';
import { createBootRecorder } from './boots.js';
import { createConnectionRecorder } from './connections.js';
import { createMeterWriter } from './meter-writer.js';
import { createStatusWriter } from './status.js';
import { guardedHandlers, SUPPORTED_PROTOCOLS, type RPCServerClient } from './rpc.js';
import { handle16 } from './v16.js';
import { handle201 } from './v201.js';
import { keepRejectedCall } from './salvage.js';

export interface GatewayOptions {
  db: Db;
  log: Logger;
  /** This process's name in the charger → gateway map. */
  node: string;
  heartbeatIntervalSeconds: number;
  outboxChanged(): void;
  /** Largest frame a charger may send; bigger ones close the socket (WebSocket 1009). */
  maxPayloadBytes?: number;
  /** WebSocket ping interval: a charger that misses a pong is disconnected, so a dead link is seen within about two intervals. */
  pingIntervalMs?: number;
  /** When chargers connect and disconnect, for the offline periods: the system clock unless a simulation supplies one. */
  clock?: () => Date;
}

/** The charger holds no socket on this gateway (or on any: it is offline). */
export class ChargerOfflineError extends Error {
  override name = 'ChargerOffline';
}

const LAST_SEEN_SLICE = 500;
/** How often chargers' last-seen times are written. */
const LAST_SEEN_RESOLUTION_MS = 5_000;

/** scrypt hash of a random password nobody knows, checked for unknown charger ids. */
const DUMMY_HASH = await hashPassword(randomBytes(24).toString('base64'));

/** The OCPP-J endpoint: authenticates chargers, keeps one live socket per charger, dispatches to the protocol handlers. */
export function createGateway(options: GatewayOptions) {
  const { db, log, node } = options;
  const server = new RPCServer({
    protocols: [...SUPPORTED_PROTOCOLS],
    strictMode: true,
    respondWithDetailedErrors: false,
    wssOptions: { maxPayload: options.maxPayloadBytes ?? 64 * 1024 },
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
  });
  const meters = createMeterWriter(db);
  const statuses = createStatusWriter(db);
  const connections = createConnectionRecorder(db, node, options.outboxChanged, options.clock);
  const boots = createBootRecorder(db);

  // Every message proves a charger alive; last-seen times are written for all of them at once.
  let seenSinceLastWrite = new Set<string>();
  const lastSeenTimer = setInterval(() => {
    if (seenSinceLastWrite.size === 0) return;
    const seen = [...seenSinceLastWrite];
    seenSinceLastWrite = new Set();
    void writeLastSeen(seen).catch((error: unknown) => log.warn({ err: error, chargers: seen.length }, 'could not write last-seen times'));
  }, LAST_SEEN_RESOLUTION_MS);

  /** In slices, each one array parameter: ten thousand chargers must not hold the database (PGlite: the event loop) in one statement. */
  async function writeLastSeen(ids: string[]) {
    const now = new Date();
    for (let i = 0; i < ids.length; i += LAST_SEEN_SLICE) {
      const slice = ids.slice(i, i + LAST_SEEN_SLICE);
      await db.updateTable('chargers').set({ lastSeenAt: now }).where('id', '=', sql<string>`any(${slice}::text[])`).execute();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  lastSeenTimer.unref();
  const clients = new Map<string, RPCServerClient>();
  let closing = false;

  /**
   * Stored hashes a password was already checked against, with the password's SHA-256 digest: a
   * reconnect storm (a gateway restart with thousands of chargers) then costs a lookup per charger
   * instead of an scrypt check each. Keyed by the hash itself (its salt makes it unique to one
   * charger's password), so a changed hash in the database is simply not found.
   */
  const verified = new Map<string, Buffer>();
  const digestOf = (password: string | Buffer) => createHash('sha256').update(password).digest();

  async function checkPassword(charger: { id: string; passwordHash: string } | undefined, password: string | Buffer): Promise<boolean> {
    const cached = charger && verified.get(charger.passwordHash);
    if (cached && timingSafeEqual(cached, digestOf(password))) return true;
    // Unknown charger and wrong password get the same answer, after the same work (a hash check
    // against a dummy for unknown ids): neither the answer nor its timing says which ids exist.
    const valid = await verifyPassword(password, charger?.passwordHash ?? DUMMY_HASH);
    if (charger && valid) verified.set(charger.passwordHash, digestOf(password));
    return valid;
  }

  server.auth((accept, reject, handshake) => {
    void (async () => {
      const protocol = SUPPORTED_PROTOCOLS.find((p) => handshake.protocols.has(p));
      if (!protocol) return reject(400, `no common subprotocol; this server speaks ${SUPPORTED_PROTOCOLS.join(', ')}`);
      // An id no charger can have (a NUL, which the database could not even compare, or any other
      // character outside the rule) is refused as an unknown one, after the same dummy hash check.
      const charger = CHARGER_ID.pattern.test(handshake.identity)
        ? await db.selectFrom('chargers').select(['id', 'passwordHash']).where('id', '=', handshake.identity).executeTakeFirst()
        : undefined;
      const valid = await checkPassword(charger, handshake.password ?? '');
      if (!charger || !handshake.password || !valid) {
        log.warn({ identity: handshake.identity, remoteAddress: handshake.remoteAddress }, 'charger refused: bad credentials');
        return reject(401, 'Unauthorized');
      }
      accept({ chargerId: charger.id }, protocol);
    })().catch((error: unknown) => {
      log.error({ err: error, identity: handshake.identity }, 'charger authentication failed');
      reject(503, 'Service Unavailable');
    });
  });

  server.on('client', (client: RPCServerClient) => {
    onConnected(client).catch((error: unknown) => log.error({ err: error, chargerId: client.identity }, 'charger connection setup failed'));
  });

  async function onConnected(client: RPCServerClient) {
    const chargerId = client.session.chargerId as string;
    const protocol = client.protocol ?? 'ocpp1.6';
    const previous = clients.get(chargerId);
    clients.set(chargerId, client);
    if (previous && previous !== client) {
      log.info({ chargerId }, 'charger reconnected; closing its previous socket');
      void previous.close({ code: 1000, reason: 'replaced by a new connection' });
    }

    const connectionId = randomUUID();
    const connected = connections.connected(chargerId, connectionId, protocol);
    const recorded = connected.catch(() => undefined);
    const ctx: HandlerContext = { db, log: log.child({ chargerId }), chargerId, protocol, heartbeatIntervalSeconds: options.heartbeatIntervalSeconds, outboxChanged: options.outboxChanged, meters, statuses, boots, recorded };
    const handlers = guardedHandlers(client, ctx);
    if (protocol === 'ocpp2.0.1') handle201(handlers, ctx);
    else handle16(handlers, ctx);

    client.on('message', ({ outbound }: { outbound: boolean }) => {
      if (!outbound) seenSinceLastWrite.add(chargerId);
    });
    client.on('strictValidationFailure', (failure: { messageId: string; method: string; params: unknown; error: Error; outbound: boolean; isCall: boolean }) => {
      ctx.log.warn({ method: failure.method, outbound: failure.outbound, reason: failure.error.message }, 'OCPP message failed schema validation');
      if (failure.outbound || !failure.isCall) return;
      keepRejectedCall(ctx, failure).catch((error: unknown) => ctx.log.error({ err: error, method: failure.method }, 'could not keep a rejected call'));
    });
    client.on('badMessage', ({ error }: { error: Error }) => {
      ctx.log.warn({ reason: error.message }, 'malformed OCPP frame answered with CALLERROR');
    });
    client.on('close', ({ code, reason }: { code: number; reason: unknown }) => {
      // Only the socket that still holds the charger may mark it gone: an old socket closing
      // after the charger reconnected must not make it look offline.
      if (clients.get(chargerId) !== client) return;
      clients.delete(chargerId);
      if (closing) return;
      // A socket that drops at once must not be recorded gone before it is recorded connected.
      void connected
        .catch(() => undefined)
        // The close reason is the charger's text, kept like its messages (U+FFFD for what the database cannot store).
        .then(() => connections.disconnected(chargerId, connectionId, { code, reason: storableText(String(reason ?? '')) }))
        .catch((error: unknown) => ctx.log.error({ err: error }, 'could not record disconnect'));
    });

    await connected;
    ctx.log.info({ protocol }, 'charger connected');
  }

  /** Sends a command to a charger whose socket this gateway holds, and returns its answer. */
  async function call(chargerId: string, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const client = clients.get(chargerId);
    if (!client) throw new ChargerOfflineError(`charger ${chargerId} is not connected to gateway ${node}`);
    // The charger's answer, or its CALLERROR's text, is kept like its own messages (U+FFFD for what the database cannot store).
    try {
      return storableCopy(await client.call(method, params, { callTimeoutMs: timeoutMs }));
    } catch (error) {
      if (error instanceof Error) {
        error.message = storableText(error.message);
        const refused = error as Error & { details?: unknown };
        if (refused.details !== undefined) refused.details = storableCopy(refused.details);
      }
      throw error;
    }
  }

  return {
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      // ocpp-rpc decodes the identity outside its own error handling (e.g. "/ocpp/%E0%A4%A" throws):
      // a request must never take the process down.
      server.handleUpgrade(request, socket as never, head).catch((error: unknown) => {
        log.warn({ err: error, url: request.url }, 'WebSocket upgrade refused');
        // An id that is not even valid percent-encoding is refused as any id no charger can have.
        if (error instanceof URIError && socket.writable) socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        socket.destroy();
      });
    },

    /** Marks the chargers this node held disconnected: at start after a crash. */
    forgetPreviousConnections: () => connections.forgetPrevious(),
    /** Says the gateway takes connections (once it listens): chargers it disconnected may count as away from now. */
    takingConnections: () => connections.back(),
    call,
    /** The protocol of a charger whose socket this gateway holds. */
    protocolOf: (chargerId: string) => clients.get(chargerId)?.protocol ?? null,
    /** The chargers whose sockets this gateway holds. */
    connectedChargers: () => [...clients.keys()],

    async close() {
      closing = true;
      clearInterval(lastSeenTimer);
      await server.close({ code: 1001, reason: 'server shutting down', awaitPending: false, force: false });
      await connections.forgetPrevious();
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
