import { condition, defineQuery, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { SettlementActivities } from '../../activities/settlement.js';
import type { ApproveRequest, SettlementInput, SettlementState } from '../../contracts/settlement-process.js';
import { refuse } from '../incident/failures.js';

const { issueMonthStatement, recordStatementEvent, sendStatement } = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});

export const approveStatement = defineUpdate<SettlementState, [ApproveRequest]>('approve');
export const settlementQuery = defineQuery<SettlementState>('settlement');

/**
 * One agreement's month, settled:
 *
 *   issue the statement (or find the month unchanged: the same inputs issue nothing)
 *   → if the agreement asks for it, wait for an account manager's approval
 *   → send it to the agreement's recipients (PDF and CSVs attached), once
 *
 * Started by the agreement workflow on its settlement day, or on demand (API), as
 * `settlement:<agreement>:<yyyy-mm>`; a later run of the same id re-settles the month.
 */
export async function settlementWorkflow(input: SettlementInput): Promise<SettlementState> {
  const state: SettlementState = { agreementId: input.agreementId, month: input.month, status: 'issuing', statementId: null, revision: null, noteId: null, approvedBy: null };
  let approval: ApproveRequest | null = null;
  setHandler(settlementQuery, () => state);
  setHandler(
    approveStatement,
    async (request) => {
      approval = request;
      await condition(() => state.status !== 'awaiting-approval');
      return state;
    },
    {
      validator: (request) => {
        if (request.actor.role !== 'account-manager') refuse('only an account manager approves a statement', 'Forbidden');
        if (state.status !== 'awaiting-approval') refuse(`the statement is not awaiting approval (it is ${state.status})`, 'InvalidTransition');
        if (request.statementId !== state.statementId) refuse(`this settlement awaits approval of ${state.statementId}, not ${request.statementId}`, 'InvalidRequest');
      },
    },
  );

  const issued = await issueMonthStatement(input);
  Object.assign(state, { statementId: issued.statementId, revision: issued.revision, noteId: issued.noteId });
  if (issued.sent) {
    state.status = 'unchanged';
    return state;
  }
  if (issued.needsApproval) {
    state.status = 'awaiting-approval';
    await condition(() => approval !== null);
    const by: ApproveRequest = approval!;
    state.approvedBy = by.actor.name;
    await recordStatementEvent({ statementId: issued.statementId, kind: 'approved', actor: by.actor.name, detail: { actorId: by.actor.id } });
  }
  state.status = 'sending';
  await sendStatement({ statementId: issued.statementId, noteId: issued.noteId });
  state.status = 'sent';
  return state;
}
