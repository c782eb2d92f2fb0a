import { ActivityFailure, ApplicationFailure, condition, patched } from '@temporalio/workflow';
import { HEALTHY_STATUSES, type ChargerReport } from '../../contracts/incident.js';
import { locateCharger, locateChargerLocally, resetChargerThrough } from './activities.js';
import { CHARGER_LOCATED_LOCALLY } from './patches.js';
import { system, type IncidentState } from './state.js';

/** The charger's latest report on the connector, and when it arrived (workflow time). */
export interface LastReport {
  signal: ChargerReport;
  receivedAt: number;
}

/**
 * The remote fix: a soft reset, then wait for the charger to report the connector healthy; if it
 * does not, a hard reset and wait again. Recovered → verification; not → a task for the field
 * crew. A person may take over meanwhile (assign, claim): the fix stops and the work goes on as a
 * task in their phase.
 */
export async function remoteFix(state: IncidentState, lastReport: () => LastReport | null): Promise<void> {
  const { incident } = state;
  // Asked once, as the fix starts: runs from before the change look the charger up as they did.
  const locate = patched(CHARGER_LOCATED_LOCALLY) ? locateChargerLocally : locateCharger;
  state.setStatus('remote-fix');
  state.record('remote-fix-started', system);
  let recovered = false;
  for (const kind of ['soft', 'hard'] as const) {
    if (incident.status !== 'remote-fix') break; // a human took over
    const sentAt = Date.now();
    const answer = await reset(locate, incident.chargerId, kind);
    const attempt = { kind, at: new Date(sentAt).toISOString(), answer, recovered: false };
    incident.remoteFix.push(attempt);
    state.record('remote-fix-attempt', system, null, { kind, answer });
    if (answer === 'ChargerOffline') break;
    if (answer !== 'Accepted') continue;
    const recoveredSinceReset = () => {
      const last = lastReport();
      return last !== null && last.receivedAt >= sentAt && HEALTHY_STATUSES.has(last.signal.status);
    };
    attempt.recovered = await condition(() => incident.status !== 'remote-fix' || recoveredSinceReset(), incident.terms.remoteFixWaitMs);
    attempt.recovered &&= incident.status === 'remote-fix';
    state.record('remote-fix-result', system, null, { kind, recovered: attempt.recovered });
    if (attempt.recovered) {
      recovered = true;
      break;
    }
  }
  if (incident.status !== 'remote-fix') {
    if (!state.isClosed() && incident.status !== 'verifying') state.ensureTask();
    return;
  }
  if (recovered) state.startVerification(system, 'remote-fix');
  else state.openTask();
}

/** Sends a reset through the gateway holding the charger's socket; answers 'Accepted', 'Rejected', 'ChargerOffline' or the failure. */
async function reset(locate: typeof locateCharger, chargerId: string, kind: 'soft' | 'hard'): Promise<string> {
  const where = await locate({ chargerId });
  if (!where.connected || !where.gatewayNode) return 'ChargerOffline';
  try {
    return (await resetChargerThrough(where.gatewayNode)({ chargerId, kind })).status;
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (cause instanceof ApplicationFailure && cause.type) return cause.type;
    return 'failed';
  }
}
