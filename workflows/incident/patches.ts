/**
 * The `patched()` ids the incident workflow asks, one per change to the commands it issues (see
 * docs/contributing.md). Runs whose histories lack a marker replay the old way.
 */

/** A step taken in the same workflow task as the start (it closed the incident) leaves no work to open. */
export const NO_WORK_ONCE_CLOSED = 'no-work-once-closed';

/**
 * A fix on a connector that does not report healthy waits for it before verification starts (at
 * most the verification window), and verification ends resolved only if the connector is still
 * healthy; otherwise the fix has not taken. Asked only when the connector is not healthy.
 */
export const VERIFY_WHEN_HEALTHY = 'verify-when-healthy';
