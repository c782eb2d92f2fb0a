import { createRPCError, type IHandlersOption, type RPCClient } from 'ocpp-rpc';
import { storableCopy } from '../contracts/storable-text.js';
import { OutOfBounds } from './bounds.js';
import type { HandlerContext } from './context.js';
import { keepRejectedCall } from './salvage.js';

/**
 * One charger's connection on the server side. ocpp-rpc does not export the server-client type
 * from its index; its public surface is the RPCClient's plus `session` and `handshake`.
 */
export type RPCServerClient = RPCClient &
  HandlerRegistry & {
    readonly session: Record<string, unknown>;
  };

export const SUPPORTED_PROTOCOLS = ['ocpp2.0.1', 'ocpp1.6'] as const;

/** Where a protocol version's handlers are registered. */
export interface HandlerRegistry {
  handle(method: string, handler: (call: IHandlersOption) => Promise<unknown>): void;
}

/**
 * The client's handlers, guarded.
 * - Every payload reaches its handler storable: a character PostgreSQL cannot keep in text or jsonb
 *   (NUL, a lone surrogate) is replaced by U+FFFD in every string and key, so a charger's report,
 *   a fault above all, is never lost for it.
 * - A call with a number out of bounds (./bounds.ts) is kept in rejected_frames and answered with
 *   PropertyConstraintViolation.
 * - A failure nobody chose (the database down, a bug) is logged with the charger and the method,
 *   and the charger gets OCPP-J's InternalError with the standard text, never the error's own
 *   message, which could tell a client about the database behind.
 */
export function guardedHandlers(client: RPCServerClient, ctx: HandlerContext): HandlerRegistry {
  return {
    handle(method, handler) {
      client.handle(method, async (call) => {
        const params = storableCopy(call.params);
        try {
          return await handler({ ...call, params });
        } catch (error) {
          if (error instanceof OutOfBounds) {
            // Answered only once kept, as a stored report is: the refusal tells the charger its call is on record.
            await keepRejectedCall(ctx, { messageId: String(call.messageId), method, params, error }).catch((failure: unknown) => ctx.log.error({ err: failure, method }, 'could not keep a rejected call'));
            throw createRPCError('PropertyConstraintViolation', error.message);
          }
          // An OCPP-J error a handler chose (ocpp-rpc's RPCError is not among its ESM exports: told by its code).
          if (typeof (error as { rpcErrorCode?: unknown } | null)?.rpcErrorCode === 'string') throw error;
          ctx.log.error({ err: error, method, messageId: call.messageId }, 'could not handle a charger message; answered InternalError');
          throw createRPCError('InternalError');
        }
      });
    },
  };
}
