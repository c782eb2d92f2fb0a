/**
 * The `patched()` ids the incident workflow asks, one per change to the commands it issues (see
 * docs/contributing.md). Runs whose histories lack a marker replay the old way. (The connectivity
 * watch keeps its one beside it, in workflows/connectivity/workflow.ts.)
 */

/**
 * Deprecated (`deprecatePatch`): main at baedf3f asked `patched()` under this id before every
 * projection save (its other branch, a local activity, was withdrawn before it landed), so runs
 * started there carry the marker; new ones no longer depend on it. Remove once no such run is open.
 */
export const PROJECTION_SAVED_AFTER_THE_TASK = 'projection-saved-after-the-task';

/** A step taken in the same workflow task as the start (it closed the incident) leaves no work to open. */
export const NO_WORK_ONCE_CLOSED = 'no-work-once-closed';

/**
 * A fix on a connector that does not report healthy waits for it before verification starts (at
 * most the verification window), and verification ends resolved only if the connector is still
 * healthy; otherwise the fix has not taken. Asked only when the connector is not healthy.
 */
export const VERIFY_WHEN_HEALTHY = 'verify-when-healthy';

/**
 * A fault more urgent than the incident it joins raises the incident's priority and SLA targets
 * from that moment (a timeline entry and new deadlines). Asked only when such a fault arrives.
 */
export const PRIORITY_RAISED_BY_A_FAULT = 'priority-raised-by-a-fault';

/**
 * The SLA timer is replaced only when the next timed instant moved, not at every change to the
 * incident (each replacement was a TimerCanceled and a TimerStarted in the history, and a task's
 * work in the worker). Asked once, when the timer starts running.
 */
export const SLA_TIMER_KEPT_UNTIL_MOVED = 'sla-timer-kept-until-moved';

/**
 * The remote fix looks up which gateway holds the charger with a local activity (a read) instead
 * of a scheduled one. Asked once, as the remote fix starts.
 */
export const CHARGER_LOCATED_LOCALLY = 'charger-located-locally';
