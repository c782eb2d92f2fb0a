import { WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

/**
 * Which charger workflows (incidents, connectivity watches) may be running, so that a status
 * change or a reconnect is sent only where someone listens. Whoever starts one notes it first;
 * a signal that finds the workflow gone drops the note, unless it was started again meanwhile.
 */

/** Call before starting (or signal-with-starting) the workflow: a crash in between leaves a note too many, never one too few. */
export async function noteStarted(db: Db, workflowId: string): Promise<void> {
  await db
    .insertInto('startedWorkflows')
    .values({ workflowId })
    .onConflict((oc) => oc.column('workflowId').doUpdateSet({ generation: sql`started_workflows.generation + 1`, startedAt: sql`now()` }))
    .execute();
}

/** The notes on these workflow ids (their generations), in one query: a relay pass looks them up here. */
export async function notesOn(db: Db, workflowIds: string[]): Promise<Map<string, string>> {
  if (workflowIds.length === 0) return new Map();
  const rows = await db.selectFrom('startedWorkflows').select(['workflowId', 'generation']).where('workflowId', 'in', [...new Set(workflowIds)]).execute();
  return new Map(rows.map((row) => [row.workflowId, row.generation]));
}

/**
 * Sends `signal` if the workflow was noted (`generation` from `notesOn`); a workflow that has
 * ended since is forgotten. Returns whether the signal reached a workflow.
 */
export async function signalIfNoted(db: Db, workflowId: string, generation: string | undefined, signal: () => Promise<void>): Promise<boolean> {
  if (generation === undefined) return false;
  try {
    await signal();
    return true;
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    await db.deleteFrom('startedWorkflows').where('workflowId', '=', workflowId).where('generation', '=', generation).execute();
    return false;
  }
}
