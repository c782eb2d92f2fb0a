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

/**
 * Sends `signal` if the workflow may be running; a workflow that has ended since is forgotten.
 * Returns whether the signal reached a workflow.
 */
export async function signalIfStarted(db: Db, workflowId: string, signal: () => Promise<void>): Promise<boolean> {
  const note = await db.selectFrom('startedWorkflows').select('generation').where('workflowId', '=', workflowId).executeTakeFirst();
  if (!note) return false;
  try {
    await signal();
    return true;
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    await db.deleteFrom('startedWorkflows').where('workflowId', '=', workflowId).where('generation', '=', note.generation).execute();
    return false;
  }
}
