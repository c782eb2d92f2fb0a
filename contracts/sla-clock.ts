import { addBusinessTime, businessTimeBetween, type BusinessCalendar, type Interval } from './calendar.js';

/**
 * SLA clocks the way service desks run them: a clock counts business time on its calendar from a
 * start, may pause (with a reason) and resume, stops when its goal is met, and can be cancelled.
 * A reopen starts a new cycle with the full target; each cycle remembers whether it breached.
 * Plain data plus pure functions, so the incident workflow can hold a clock in its state and the
 * API can report on it.
 */

/** Why an SLA clock may stop: the agreement chooses which of these it allows. */
export const PAUSE_REASONS = ['venue-access', 'parts', 'utility'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

export interface ClockPause {
  from: string;
  to: string | null;
  reason: PauseReason;
}

export interface ClockCycle {
  startedAt: string;
  stoppedAt: string | null;
  pauses: ClockPause[];
  breachedAt: string | null;
  /**
   * The business time this cycle may count, and on which calendar, when they differ from the
   * clock's (a priority raised during the cycle, see `retargetClock`); absent = the clock's.
   */
  targetMs?: number;
  calendar?: BusinessCalendar | null;
}

export interface SlaClock {
  name: 'response' | 'fix';
  targetMs: number;
  /** None = 24/7 wall-clock time. */
  calendar: BusinessCalendar | null;
  cycles: ClockCycle[];
  cancelledAt: string | null;
}

export interface ClockState {
  name: SlaClock['name'];
  cycle: number;
  running: boolean;
  /** Paused now (never once stopped or cancelled). */
  paused: boolean;
  pauseReason: PauseReason | null;
  /** No longer runs: its goal was met, or it was cancelled (`cancelled` tells which). */
  stopped: boolean;
  cancelled: boolean;
  targetMs: number;
  elapsedWallMs: number;
  elapsedBusinessMs: number;
  pausedBusinessMs: number;
  remainingMs: number;
  percent: number;
  /** When the current cycle breaches (or breached); null while paused, stopped before breaching, or cancelled. */
  breachAt: string | null;
  /** The last cycle breached. */
  breached: boolean;
  everBreached: boolean;
}

const ALWAYS_OPEN: BusinessCalendar = { timeZone: 'UTC', alwaysOpen: true, weekly: {}, holidays: [] };

export function newClock(name: SlaClock['name'], targetMs: number, calendar: BusinessCalendar | null, startedAt: Date): SlaClock {
  return { name, targetMs, calendar, cycles: [{ startedAt: startedAt.toISOString(), stoppedAt: null, pauses: [], breachedAt: null }], cancelledAt: null };
}

const current = (clock: SlaClock) => clock.cycles[clock.cycles.length - 1]!;
const calendarOf = (clock: SlaClock) => (current(clock).calendar !== undefined ? current(clock).calendar : clock.calendar) ?? ALWAYS_OPEN;

/** The business time the current cycle may count before it breaches. */
export const cycleTargetMs = (clock: SlaClock) => current(clock).targetMs ?? clock.targetMs;
const openPause = (cycle: ClockCycle) => cycle.pauses.find((p) => p.to === null) ?? null;
const isRunning = (clock: SlaClock) => clock.cancelledAt === null && current(clock).stoppedAt === null;

/** The cycle's pauses as intervals; an open one runs to `now` (never before its own start, whatever clock `now` came from). */
function pauseIntervals(cycle: ClockCycle, now: Date): Interval[] {
  return cycle.pauses.map((p) => {
    const start = new Date(p.from);
    const end = p.to ? new Date(p.to) : now;
    return { start, end: end < start ? start : end };
  });
}

/** Pauses a running clock; a paused, stopped or cancelled clock is left as it is (returns false). */
export function pauseClock(clock: SlaClock, at: Date, reason: PauseReason): boolean {
  const cycle = current(clock);
  if (!isRunning(clock) || openPause(cycle)) return false;
  cycle.pauses.push({ from: at.toISOString(), to: null, reason });
  return true;
}

export function resumeClock(clock: SlaClock, at: Date): boolean {
  const pause = openPause(current(clock));
  if (!pause || clock.cancelledAt !== null) return false;
  pause.to = at.toISOString();
  return true;
}

/** Stops the current cycle: its goal is met (responded, fixed). An open pause ends with it. */
export function stopClock(clock: SlaClock, at: Date): boolean {
  if (!isRunning(clock)) return false;
  resumeClock(clock, at);
  current(clock).stoppedAt = at.toISOString();
  return true;
}

export function cancelClock(clock: SlaClock, at: Date): boolean {
  if (clock.cancelledAt !== null) return false;
  resumeClock(clock, at);
  clock.cancelledAt = at.toISOString();
  return true;
}

/** A reopen: a new cycle with the full target, from `at`. */
export function restartClock(clock: SlaClock, at: Date): void {
  stopClock(clock, at);
  clock.cancelledAt = null;
  clock.cycles.push({ startedAt: at.toISOString(), stoppedAt: null, pauses: [], breachedAt: null });
}

/**
 * New targets for a clock from `at` on, as service desks apply a priority change: later cycles run
 * on the new target and calendar, and the running cycle is now due at the earlier of its own
 * deadline and `at` plus the new target on the new calendar (a raise never gives more time). A
 * paused cycle is treated as if it resumed at `at`. A cycle already stopped, cancelled or breached
 * keeps its target and calendar, so what it reports does not change.
 */
export function retargetClock(clock: SlaClock, targetMs: number, calendar: BusinessCalendar | null, at: Date): void {
  const cycle = current(clock);
  const oldCalendar = calendarOf(clock);
  const oldTarget = cycleTargetMs(clock);
  if (!isRunning(clock) || cycle.breachedAt !== null) {
    cycle.targetMs = oldTarget;
    cycle.calendar = cycle.calendar !== undefined ? cycle.calendar : clock.calendar;
  } else {
    const remaining = Math.max(0, oldTarget - elapsedBusinessMs(clock, at));
    const newCalendar = calendar ?? ALWAYS_OPEN;
    const oldDue = addBusinessTime(at, remaining, oldCalendar);
    const newDue = addBusinessTime(at, targetMs, newCalendar);
    const due = oldDue < newDue ? oldDue : newDue;
    const countedOnNew = businessTimeBetween(new Date(cycle.startedAt), at, newCalendar, pauseIntervals(cycle, at));
    cycle.calendar = calendar;
    cycle.targetMs = countedOnNew + businessTimeBetween(at, due, newCalendar);
  }
  clock.targetMs = targetMs;
  clock.calendar = calendar;
}

/** Business time counted in the current cycle up to `now`. */
export function elapsedBusinessMs(clock: SlaClock, now: Date): number {
  const cycle = current(clock);
  return businessTimeBetween(new Date(cycle.startedAt), cycleEnd(clock, now), calendarOf(clock), pauseIntervals(cycle, cycleEnd(clock, now)));
}

/** Where counting ends: the stop, the cancellation, or now. */
function cycleEnd(clock: SlaClock, now: Date): Date {
  const cycle = current(clock);
  return cycle.stoppedAt ? new Date(cycle.stoppedAt) : clock.cancelledAt ? new Date(clock.cancelledAt) : now;
}

/**
 * The instant at which the current cycle will have counted `elapsedMs` of business time, if it is
 * not paused again; null while paused, stopped or cancelled. The breach instant is `breachInstant(clock)`; an escalation at 75 % is `instantAt(clock, 0.75 * targetMs)`. Pauses move it.
 */
export function instantAt(clock: SlaClock, elapsedMs: number): Date | null {
  const cycle = current(clock);
  if (!isRunning(clock) || openPause(cycle)) return null;
  return addBusinessTime(new Date(cycle.startedAt), elapsedMs, calendarOf(clock), pauseIntervals(cycle, new Date(cycle.startedAt)));
}

/** When the current cycle breaches, if it runs on unpaused; null while paused, stopped or cancelled. */
export const breachInstant = (clock: SlaClock): Date | null => instantAt(clock, cycleTargetMs(clock));

/** Records a breach of the current cycle (the workflow calls this when the breach instant is reached). */
export function markBreached(clock: SlaClock, at: Date): void {
  const cycle = current(clock);
  if (cycle.breachedAt === null) cycle.breachedAt = at.toISOString();
}

export function clockState(clock: SlaClock, now: Date): ClockState {
  const cycle = current(clock);
  const ended = cycle.stoppedAt !== null || clock.cancelledAt !== null;
  const pause = ended ? null : openPause(cycle);
  const end = cycleEnd(clock, now);
  const elapsed = elapsedBusinessMs(clock, now);
  const wall = Math.max(0, end.getTime() - new Date(cycle.startedAt).getTime());
  const grossBusiness = businessTimeBetween(new Date(cycle.startedAt), end, calendarOf(clock));
  const breachAt = cycle.breachedAt ?? breachInstant(clock)?.toISOString() ?? null;
  const targetMs = cycleTargetMs(clock);
  return {
    name: clock.name,
    cycle: clock.cycles.length,
    running: isRunning(clock) && !pause,
    paused: pause !== null,
    pauseReason: pause?.reason ?? null,
    stopped: ended,
    cancelled: clock.cancelledAt !== null,
    targetMs,
    elapsedWallMs: wall,
    elapsedBusinessMs: elapsed,
    pausedBusinessMs: grossBusiness - elapsed,
    remainingMs: Math.max(0, targetMs - elapsed),
    percent: targetMs === 0 ? 100 : Math.round((elapsed / targetMs) * 10_000) / 100,
    breachAt,
    breached: cycle.breachedAt !== null || elapsed >= targetMs,
    everBreached: clock.cycles.some((c) => c.breachedAt !== null) || elapsed >= targetMs,
  };
}
