import { ApplicationFailure } from '@temporalio/activity';
import { DATABASE_REFUSED } from '../contracts/storable-text.js';
import { permanentSqlState } from '../db/refusals.js';

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * The activities, each failing as non-retryable (`DatabaseRefused`) when the database refuses its
 * data for good, instead of being retried without end; every other failure is retried as before.
 */
export function failingPermanentlyOnRefusedData<T extends Activities>(activities: T): T {
  const wrapped = Object.entries(activities).map(([name, activity]) => [
    name,
    async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        const sqlState = permanentSqlState(error);
        if (!sqlState) throw error;
        throw ApplicationFailure.create({ message: `the database refused the data (SQLSTATE ${sqlState}): ${(error as Error).message}`, type: DATABASE_REFUSED, nonRetryable: true, details: [{ sqlState }], cause: error as Error });
      }
    },
  ]);
  return Object.fromEntries(wrapped) as T;
}
