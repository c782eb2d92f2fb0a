import { condition, patched } from '@temporalio/workflow';
import { dueEscalations } from '../../contracts/escalation.js';
import { breachInstant } from '../../contracts/sla-clock.js';
import type { Escalations } from './escalations.js';
import { VERIFY_WHEN_HEALTHY } from './patches.js';
import { system, type IncidentState } from './state.js';

interface TimedEvent {
  at: number;
  fire(): Promise<void> | void;
}

/**
 * Everything that happens at a time — both clocks' breaches, escalations, the end of
 * verification — on one movable timer: it waits for the next instant computed from the current
 * state, and any change to the incident (a pause, an acknowledgement, a reopen) makes it compute
 * again, so every deadline moves at once. Runs until `finished()`.
 */
export async function runSlaTimer(state: IncidentState, escalations: Escalations, finished: () => boolean): Promise<void> {
  const { incident } = state;
  while (!finished()) {
    const next = nextTimedEvent(state, escalations);
    const revision = incident.revision;
    const moved = () => incident.revision !== revision || finished();
    if (!next) await condition(moved);
    else if (!(await condition(moved, Math.max(1, next.at - Date.now())))) await next.fire();
  }
}

function nextTimedEvent(state: IncidentState, escalations: Escalations): TimedEvent | null {
  const { incident } = state;
  const events: TimedEvent[] = [];
  for (const name of ['response', 'fix'] as const) {
    const clock = incident.clocks[name];
    const cycle = clock.cycles.at(-1)!;
    const breachAt = cycle.breachedAt ? null : breachInstant(clock);
    if (breachAt) events.push({ at: breachAt.getTime(), fire: () => state.breached(name, breachAt) });
  }
  if (!state.isClosed()) {
    const [escalation] = dueEscalations(incident.id, incident.terms.escalation, incident.clocks, incident.acknowledgedAt !== null, incident.escalations);
    // Sent beside the timer: a mail server that is down must not hold up breaches or verification.
    if (escalation) events.push({ at: escalation.at.getTime(), fire: () => void escalations.send(escalation) });
  }
  if (incident.status === 'verifying' && incident.verification) {
    // Verified only if the connector still says it works; runs from before this check close as they did.
    const verified = () => (incident.connectorHealthy === false && patched(VERIFY_WHEN_HEALTHY) ? state.fixNotTaken() : state.close('resolved', 'verified', system));
    events.push({ at: Date.parse(incident.verification.endsAt), fire: verified });
  }
  if (incident.status === 'verifying' && incident.awaitingHealthy) {
    events.push({ at: Date.parse(incident.awaitingHealthy.until), fire: () => state.fixNotTaken() });
  }
  return events.sort((a, b) => a.at - b.at)[0] ?? null;
}
