import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import { SUPPORTED_PROTOCOLS, type RPCServerClient } from '../ocpp/rpc.js';
import { cpuMs, loopDelaySinceLastCall, mainThreadBusyMs, measuredHeap, profileRequest, serveParent, tellParent, threadCpuMs, type ServerReply, type ServerRequest } from './ipc.js';

/**
 * The yardstick: ocpp-rpc's RPCServer in strict mode, as the gateway runs it, answering every
 * charger message at once and keeping nothing. Any password is accepted.
 */
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
  const currentTime = () => new Date().toISOString();
  client.handle('BootNotification', async () => ({ status: 'Accepted', currentTime: currentTime(), interval: 300 }));
  client.handle('Heartbeat', async () => ({ currentTime: currentTime() }));
  client.handle('StatusNotification', async () => ({}));
  client.handle('MeterValues', async () => ({}));
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
      tellParent({ type: 'stopped' });
      process.exit(0);
  }
});
