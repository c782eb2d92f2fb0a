import type { EscalationLevel } from './incident.js';
import { cycleTargetMs, instantAt, type SlaClock } from './sla-clock.js';

/** The next notice an escalation level is due to send, and when. */
export interface DueEscalation {
  level: EscalationLevel;
  clock: 'response' | 'fix';
  /** 0 = the level's first notice, 1.. = its repeats (within the clock's current cycle). */
  repeat: number;
  key: string;
  at: Date;
}

/** A readable name of a trigger, for the timeline and the e-mail. */
export function describeTrigger(trigger: EscalationLevel['trigger']): string {
  switch (trigger.kind) {
    case 'response-elapsed':
    case 'fix-elapsed':
      return `${trigger.kind} ${trigger.percent}%`;
    case 'unacknowledged-for':
      return `unacknowledged for ${Math.round(trigger.afterMs / 60_000)} min`;
    default:
      return trigger.kind;
  }
}

/**
 * When each escalation level next fires, counted on its clock's business time: a level fires when
 * its clock has run the trigger's share (or passed its target, or — for "unacknowledged for" — run
 * that long without an acknowledgement), then every `repeatEvery` of further business time while
 * its condition holds. A paused or stopped clock fires nothing (its instants are unknown), so a
 * Friday 17:30 fault on an office-hours calendar escalates on Monday, not Saturday. Levels already
 * sent (by key) are skipped; the earliest due notice comes first.
 */
export function dueEscalations(
  incidentId: string,
  levels: EscalationLevel[],
  clocks: { response: SlaClock; fix: SlaClock },
  acknowledged: boolean,
  sent: readonly string[],
): DueEscalation[] {
  const due: DueEscalation[] = [];
  for (const level of levels) {
    const { trigger } = level;
    const clockName = trigger.kind === 'fix-elapsed' || trigger.kind === 'fix-breached' ? 'fix' : 'response';
    if (trigger.kind === 'unacknowledged-for' && acknowledged) continue;
    const clock = clocks[clockName];
    const targetMs = cycleTargetMs(clock);
    const firstAt = trigger.kind === 'unacknowledged-for' ? trigger.afterMs : trigger.kind === 'response-elapsed' || trigger.kind === 'fix-elapsed' ? (targetMs * trigger.percent) / 100 : targetMs;
    const cycle = clock.cycles.length;
    let repeat = 0;
    const keyOf = (r: number) => `${incidentId}:L${level.level}:${clockName}${cycle}:${r}`;
    while (sent.includes(keyOf(repeat))) repeat++;
    if (repeat > 0 && level.repeatEveryMs === null) continue;
    const at = instantAt(clock, firstAt + repeat * (level.repeatEveryMs ?? 0));
    if (at) due.push({ level, clock: clockName, repeat, key: keyOf(repeat), at });
  }
  return due.sort((a, b) => a.at.getTime() - b.at.getTime());
}
