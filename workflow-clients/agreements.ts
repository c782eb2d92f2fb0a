import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { agreementChanged, agreementWorkflow, agreementWorkflowId } from '../workflows/agreement/workflow.js';

/**
 * After an agreement sync: every agreement in force has its workflow (`agreement:<id>`), started
 * if it is not running and told to look at its terms again if it is; a removed agreement's
 * workflow is told too, and ends.
 */
export async function followAgreements(temporal: Client, taskQueue: string, { inForce, removed }: { inForce: string[]; removed: string[] }): Promise<void> {
  for (const agreementId of inForce) {
    await temporal.workflow.signalWithStart(agreementWorkflow, {
      workflowId: agreementWorkflowId(agreementId),
      taskQueue,
      args: [{ agreementId, settledThrough: null, remindedDeadlines: [] }],
      signal: agreementChanged,
      signalArgs: [],
    });
  }
  for (const agreementId of removed) {
    await temporal.workflow
      .getHandle(agreementWorkflowId(agreementId))
      .signal(agreementChanged)
      .catch((error: unknown) => {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      });
  }
}
