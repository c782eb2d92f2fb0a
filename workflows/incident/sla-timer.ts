import { CancellationScope, condition, patched, sleep } from '@temporalio/workflow';
import { dueEscalations } from '../../contracts/escalation.js';
import { breachInstant } from '../../contracts/sla-clock.js';
import type { Escalations } from './escalations.js';
import { SLA_TIMER_KEPT_UNTIL_MOVED, VERIFY_WHEN_HEALTHY } from './patches.js';
import { system, type IncidentState } from './state.js';

interface TimedEvent {
  at: number;
  fire(): Promise<void> | void;
}

/**
 * Everything that happens at a time — both clocks' breaches, escalations, the end of
 * verification — on one movable timer: it waits for the next instant computed from the current
 * state, and any change to the incident (a pause, an acknowledgement, a reopen) makes it compute
 * again, so every deadline moves at once. The timer itself is replaced only when that instant
 * moved: most changes (a status report, a saved step) leave it, and with it the history, alone.
 * Runs until `finished()`.
 */
export async function runSlaTimer(state: IncidentState, escalations: Escalations, finished: () => boolean): Promise<void> {
  if (!patched(SLA_TIMER_KEPT_UNTIL_MOVED)) return runSlaTimerReplacedOnEveryChange(state, escalations, finished);
  const { incident } = state;
  let timer: PendingTimer | null = null;
  while (!finished()) {
    const next = nextTimedEvent(state, escalations);
    if (timer && timer.at !== next?.at) {
      timer.scope.cancel();
      timer = null;
    }
    if (next && !timer) timer = startTimer(next.at);
    const revision = incident.revision;
    const waiting = timer;
    await condition(() => incident.revision !== revision || finished() || waiting?.fired === true);
    if (waiting?.fired) {
      timer = null;
      // As before this change: a change in the same task as the timer is computed again first.
      if (incident.revision === revision && !finished()) await next!.fire();
    }
  }
  timer?.scope.cancel();
}

interface PendingTimer {
  at: number;
  fired: boolean;
  scope: CancellationScope;
}

function startTimer(at: number): PendingTimer {
  const timer: PendingTimer = { at, fired: false, scope: new CancellationScope() };
  timer.scope.run(() => sleep(Math.max(1, at - Date.now()))).then(
    () => void (timer.fired = true),
    () => undefined, // cancelled: the instant moved
  );
  return timer;
}

/** The timer as runs started before SLA_TIMER_KEPT_UNTIL_MOVED replay it: a new one at every change. */
async function runSlaTimerReplacedOnEveryChange(state: IncidentState, escalations: Escalations, finished: () => boolean): Promise<void> {
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
