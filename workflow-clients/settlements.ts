import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { settlementWorkflowId, type SettlementState } from '../contracts/settlement-process.js';
import { settlementQuery, settlementWorkflow } from '../workflows/settlement/workflow.js';

/** Where a settlement stops to wait, or ends. */
const SETTLED: SettlementState['status'][] = ['awaiting-approval', 'sent', 'unchanged'];

export class SettlementFailed extends Error {}

/**
 * Settles a month now (`settlement:<agreement>:<yyyy-mm>`), or joins the settlement of it already
 * under way, and waits until it is sent, found unchanged, or waits for an account manager's
 * approval. A settlement that fails (the month is not over, the agreement not in force) throws
 * `SettlementFailed` with the reason.
 */
export async function settleAndWait(temporal: Client, taskQueue: string, { agreementId, month }: { agreementId: string; month: string }, { timeoutMs = 120_000, pollMs = 250 } = {}) {
  const workflowId = settlementWorkflowId(agreementId, month);
  let joined = false;
  try {
    await temporal.workflow.start(settlementWorkflow, { workflowId, taskQueue, args: [{ agreementId, month }] });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    joined = true;
  }
  const handle = temporal.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await handle.describe();
    if (status.name === 'COMPLETED') return { joined, state: await handle.result() };
    if (status.name !== 'RUNNING') {
      const reason = await handle.result().then(
        () => status.name,
        (error: unknown) => rootMessage(error),
      );
      throw new SettlementFailed(`the settlement of ${month} of ${agreementId} ${status.name.toLowerCase()}: ${reason}`);
    }
    const state = await handle.query(settlementQuery);
    if (SETTLED.includes(state.status)) return { joined, state };
    if (Date.now() > deadline) throw new SettlementFailed(`the settlement of ${month} of ${agreementId} is still ${state.status} after ${timeoutMs / 1000} s: GET /api/settlements/${agreementId}/${month} tells where it stands`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The innermost cause's message: an activity's own words, not "activity task failed". */
function rootMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (error instanceof WorkflowFailedError && current === error) return error.message;
  return current instanceof Error ? current.message : String(current);
}
