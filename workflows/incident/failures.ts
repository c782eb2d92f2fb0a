import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** Refuses a human step in its validator: nothing is recorded, and the API answers 403, 409 or 400 by the type. */
export function refuse(message: string, type: 'Forbidden' | 'InvalidTransition' | 'InvalidRequest'): never {
  throw ApplicationFailure.nonRetryable(message, type);
}

/**
 * The activity's failure when it failed for good with this type (not retried), else null. An
 * activity's failure comes wrapped in an ActivityFailure; a local activity's arrives as it is.
 */
export function refusedFailure(error: unknown, type: string): ApplicationFailure | null {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === type ? cause : null;
}
