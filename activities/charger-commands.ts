import { ApplicationFailure } from '@temporalio/activity';
import ocppRpc from 'ocpp-rpc';
import type { Db } from '../db/connect.js';
import { recordChargerEvent } from '../ocpp/charger-events.js';
import type { ChargerCommand } from '../ocpp/commands.js';
import { ChargerOfflineError, type Gateway } from '../ocpp/gateway.js';

// ocpp-rpc spreads its error classes into module.exports, which Node's ESM loader cannot see as named exports.
const { RPCError, TimeoutError } = ocppRpc;

/**
 * The activities a gateway process runs on its own task queue: they need the charger's socket,
 * which only this process holds. None is retried by Temporal: a Reset sent twice reboots twice.
 */
export function createChargerCommandActivities(db: Db, gateway: Gateway, timeoutMs: number) {
  const activities = {
    async sendChargerCommand(command: ChargerCommand): Promise<unknown> {
      const record = (data: Record<string, unknown>) =>
        recordChargerEvent(db, command.chargerId, { kind: 'command', at: new Date().toISOString(), data: { command: command.command, params: command.params, ...data } });
      try {
        const response = await gateway.call(command.chargerId, command.command, command.params, timeoutMs);
        await record({ response });
        return response;
      } catch (error) {
        await record({ error: String(error) }).catch(() => undefined);
        if (error instanceof ChargerOfflineError) throw ApplicationFailure.nonRetryable(error.message, 'ChargerOffline');
        if (error instanceof TimeoutError) throw ApplicationFailure.nonRetryable(`charger ${command.chargerId} did not answer ${command.command} within ${timeoutMs} ms`, 'ChargerTimeout');
        if (error instanceof RPCError) {
          throw ApplicationFailure.nonRetryable(`charger ${command.chargerId} answered ${command.command} with ${error.rpcErrorCode}: ${error.rpcErrorMessage || error.message}`, 'CommandRejected');
        }
        throw error;
      }
    },

    /**
     * A soft or hard reset in the charger's protocol version: 1.6 Soft/Hard; 2.0.1 OnIdle (the
     * charger resets once it is not charging) / Immediate. Answers the charger's status.
     */
    async resetCharger({ chargerId, kind }: { chargerId: string; kind: 'soft' | 'hard' }): Promise<{ status: string }> {
      const protocol = gateway.protocolOf(chargerId);
      const params = protocol === 'ocpp2.0.1' ? { type: kind === 'soft' ? 'OnIdle' : 'Immediate' } : { type: kind === 'soft' ? 'Soft' : 'Hard' };
      const answer = (await activities.sendChargerCommand({ chargerId, command: 'Reset', params })) as { status?: string };
      return { status: answer.status ?? 'Unknown' };
    },
  };
  return activities;
}

export type ChargerCommandActivities = ReturnType<typeof createChargerCommandActivities>;
