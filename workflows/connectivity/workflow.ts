import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConnectivityActivities } from '../../activities/connectivity.js';
import type { ConnectivityWatchInput } from '../../contracts/connectivity.js';
import { chargerConnected, chargerDisconnected, connectivityQuery } from './messages.js';

const { raiseOfflineFault } = proxyActivities<ConnectivityActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Watches a charger that lost its socket: back within the grace period → nothing happened; not
 * back → an `offline` fault for the whole charger (its incident workflow takes it from there).
 * The watch ends once the charger is back; the next disconnect starts a new one.
 */
export async function connectivityWatch(input: ConnectivityWatchInput): Promise<void> {
  let online = false;
  let offlineSince: string | null = null;
  let incidentRaised = false;

  setHandler(chargerDisconnected, (change) => {
    if (online || offlineSince === null) offlineSince = change.at;
    online = false;
  });
  setHandler(chargerConnected, () => {
    online = true;
    offlineSince = null;
  });
  setHandler(connectivityQuery, () => ({ online, offlineSince, incidentRaised }));

  // Started by a disconnect (signal-with-start): the signal has been handled before this line runs.
  // Signals handled in one activation are all applied before a condition is checked, so a
  // reconnect followed at once by a new disconnect keeps the watch going.
  if (await condition(() => online, input.graceMs)) return;
  await raiseOfflineFault({ chargerId: input.chargerId, offlineSince: offlineSince ?? new Date().toISOString(), watchRunId: workflowInfo().runId });
  incidentRaised = true;
  await condition(() => online);
}
