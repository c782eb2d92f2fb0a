import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { RPCServer } from 'ocpp-rpc';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { valuesFrom16, valuesFrom201, type MeterValue16, type MeterValue201 } from '../ocpp/meter.js';
import { createMeterWriter, type MeterWriter } from '../ocpp/meter-writer.js';
import { SUPPORTED_PROTOCOLS, type RPCServerClient } from '../ocpp/rpc.js';
import { cpuMs, loopDelaySinceLastCall, mainThreadBusyMs, measuredHeap, profileRequest, serveParent, tellParent, threadCpuMs, type ServerReply, type ServerRequest } from './ipc.js';

/**
 * The yardstick: ocpp-rpc's RPCServer in strict mode, as the gateway runs it, answering every
 * charger message at once and keeping nothing. Any password is accepted.
 *
 * With a `store` setup it is the storage floor instead: the same server, but each MeterValues is
 * answered only once Concierge's meter writer has committed it (the same database, statement and
 * group commit as the gateway) — what any gateway that answers "stored" pays at the least, without
 * the rest of Concierge (charger registry, connections, outbox, Temporal client, logging).
 */
export interface BareServerSetup {
  /** PostgreSQL URL, or a folder for PGlite. */
  store?: { databaseUrl?: string; dataDir: string };
}

const setup = JSON.parse(process.argv[2] ?? '{}') as BareServerSetup;
let db: Db | null = null;
let meters: MeterWriter | null = null;
if (setup.store) {
  db = openDatabase(setup.store.databaseUrl ? { url: setup.store.databaseUrl } : { pgliteDir: path.join(setup.store.dataDir, 'pglite') });
  await migrateToLatest(db);
  meters = createMeterWriter(db);
}

const server = new RPCServer({ protocols: [...SUPPORTED_PROTOCOLS], strictMode: true, respondWithDetailedErrors: false, wssOptions: { maxPayload: 64 * 1024 } });
let connected = 0;
let nextTransactionId = 1;

server.auth((accept, reject, handshake) => {
  const protocol = SUPPORTED_PROTOCOLS.find((p) => handshake.protocols.has(p));
  if (!protocol) return reject(400, 'no common subprotocol');
  accept({}, protocol);
});

server.on('client', (client: RPCServerClient) => {
  connected++;
  client.once('close', () => connected--);
  const chargerId = client.identity ?? '';
  const currentTime = () => new Date().toISOString();
  client.handle('BootNotification', async () => ({ status: 'Accepted', currentTime: currentTime(), interval: 300 }));
  client.handle('Heartbeat', async () => ({ currentTime: currentTime() }));
  client.handle('StatusNotification', async () => ({}));
  client.handle('MeterValues', async ({ params }) => {
    if (meters) await meters.write(client.protocol === 'ocpp1.6' ? meterValues16(chargerId, params) : meterValues201(chargerId, params));
    return {};
  });
  client.handle('NotifyEvent', async () => ({}));
  client.handle('TransactionEvent', async () => ({}));
  client.handle('StartTransaction', async () => ({ transactionId: nextTransactionId++, idTagInfo: { status: 'Accepted' } }));
  client.handle('StopTransaction', async () => ({}));
});

const http = await server.listen(0, '127.0.0.1');
tellParent({ type: 'ready', url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp` } satisfies ServerReply);

serveParent<ServerRequest, ServerReply>(async (request) => {
  switch (request.type) {
    case 'heap':
      return { type: 'heap', ...(await measuredHeap()) };
    case 'stats':
      return { type: 'stats', connected, cpuMs: cpuMs(), mainThreadBusyMs: mainThreadBusyMs(), mainThreadCpuMs: threadCpuMs(), loopDelay: loopDelaySinceLastCall() };
    case 'profile-start':
    case 'profile-end':
      return profileRequest(request);
    case 'stop':
      await server.close({ code: 1001, reason: 'benchmark over', awaitPending: false, force: true });
      http.close();
      await db?.destroy();
      tellParent({ type: 'stopped' });
      process.exit(0);
  }
});

function meterValues16(chargerId: string, params: unknown) {
  const { connectorId, transactionId, meterValue } = params as { connectorId: number; transactionId?: number; meterValue: MeterValue16[] };
  return valuesFrom16(chargerId, connectorId, transactionId === undefined ? null : String(transactionId), meterValue);
}

function meterValues201(chargerId: string, params: unknown) {
  const { evseId, meterValue } = params as { evseId: number; meterValue: MeterValue201[] };
  return valuesFrom201(chargerId, evseId, null, meterValue);
}
