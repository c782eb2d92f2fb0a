import { condition, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConnectivityActivities } from '../../activities/connectivity.js';
import type { ConnectivityWatchInput } from '../../contracts/connectivity.js';
import { chargerConnected, chargerDisconnected, connectivityQuery } from './messages.js';

/** Watches from before this ask once and raise at once; see raiseOfflineFault. */
const OFFLINE_COUNTS_AFTER_OUR_GATEWAY = 'offline-counts-after-our-gateway';

const { raiseOfflineFault } = proxyActivities<ConnectivityActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Watches a charger that lost its socket: back within the grace period → nothing happened; not
 * back → an `offline` fault for the whole charger (its incident workflow takes it from there).
 * When Concierge's own gateway disconnected it (a stop, a restart, a crash), the grace period runs
 * from when a gateway was back for it.
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
  const finding = { chargerId: input.chargerId, offlineSince: offlineSince ?? new Date().toISOString(), watchRunId: workflowInfo().runId };
  if (patched(OFFLINE_COUNTS_AFTER_OUR_GATEWAY)) {
    // A charger our own gateway disconnected gets the grace period from when a gateway was back for it.
    for (;;) {
      const { notBefore } = await raiseOfflineFault({ ...finding, graceMs: input.graceMs });
      if (notBefore === null) break;
      if (await condition(() => online, Math.max(1, Date.parse(notBefore) - Date.now()))) return;
    }
  } else await raiseOfflineFault(finding);
  incidentRaised = true;
  await condition(() => online);
}
