import { proxyActivities } from '@temporalio/workflow';
import type { ChargerCommandActivities } from '../../activities/charger-commands.js';
import type { ChargerCommand } from '../../ocpp/commands.js';

export interface ChargerCommandInput extends ChargerCommand {
  /** The task queue of the gateway process that holds the charger's socket. */
  gatewayQueue: string;
  timeoutMs: number;
}

/**
 * Sends one command through the gateway process holding the charger's socket and returns the
 * charger's answer. A gateway that is gone fails fast: the command waits at most 10 s to be picked up.
 */
export async function chargerCommand(input: ChargerCommandInput): Promise<unknown> {
  const { sendChargerCommand } = proxyActivities<ChargerCommandActivities>({
    taskQueue: input.gatewayQueue,
    scheduleToStartTimeout: '10 seconds',
    startToCloseTimeout: input.timeoutMs + 5_000,
    retry: { maximumAttempts: 1 },
  });
  return sendChargerCommand({ chargerId: input.chargerId, command: input.command, params: input.params });
}
