import { proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { ChargerCommandActivities } from '../../activities/charger-commands.js';
import type { ChargerActivities } from '../../activities/chargers.js';
import type { IncidentActivities } from '../../activities/incidents.js';
import { gatewayTaskQueue } from '../../contracts/connectivity.js';
import type { NotificationActivities } from '../../contracts/notifications.js';

/** The side effects an incident calls, each an activity; failures that can never succeed come back non-retryable. */

const retry: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute' };

/**
 * The projection, as a scheduled activity: it runs once its workflow task is recorded, so it shows
 * only state the history holds. (A local activity would write before that; a worker killed in
 * between would leave the database showing deadlines the retried task then moves.)
 */
export const { saveIncident } = proxyActivities<IncidentActivities>({ startToCloseTimeout: '30 seconds', retry });

export const { sendEscalation } = proxyActivities<NotificationActivities>({ startToCloseTimeout: '1 minute', retry });

/** Which gateway holds the charger's socket, if any (runs started before CHARGER_LOCATED_LOCALLY). */
export const { locateCharger } = proxyActivities<ChargerActivities>({ startToCloseTimeout: '30 seconds', retry });

/**
 * The same look-up as a local activity: a read, so running it before its workflow task is recorded
 * shows nothing the history does not hold (a retried task reads again), and it costs no activity
 * task and no workflow task of its own.
 */
export const { locateCharger: locateChargerLocally } = proxyLocalActivities<ChargerActivities>({ startToCloseTimeout: '30 seconds', retry });

/** A reset sent through the gateway holding the socket (its own task queue), never retried: the answer is the result. */
export function resetChargerThrough(gatewayNode: string) {
  return proxyActivities<ChargerCommandActivities>({
    taskQueue: gatewayTaskQueue(workflowInfo().taskQueue, gatewayNode),
    scheduleToStartTimeout: '10 seconds',
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
  }).resetCharger;
}
