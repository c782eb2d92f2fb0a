import type { IHandlersOption, RPCClient } from 'ocpp-rpc';

/**
 * One charger's connection on the server side. ocpp-rpc does not export the server-client type
 * from its index; its public surface is the RPCClient's plus `session` and `handshake`.
 */
export type RPCServerClient = RPCClient & {
  readonly session: Record<string, unknown>;
  handle(method: string, handler: (call: IHandlersOption) => Promise<unknown>): void;
};

export const SUPPORTED_PROTOCOLS = ['ocpp2.0.1', 'ocpp1.6'] as const;
