import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { AgreementActivities } from '../../activities/agreement.js';
import { planLifecycle, type LifecycleState, type LifecycleTerms } from '../../contracts/agreement-lifecycle.js';
import { settlementWorkflowId } from '../../contracts/settlement-process.js';
import { settlementWorkflow } from '../settlement/workflow.js';

const { agreementLifecycleTerms } = proxyActivities<AgreementActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});
const { sendNoticeReminder } = proxyActivities<AgreementActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '30 seconds', maximumInterval: '30 minutes' },
});

/** The agreement's file changed (a new version) or was removed: look at its terms again. */
export const agreementChanged = defineSignal('agreementChanged');
export const agreementQuery = defineQuery<AgreementLifecycleView>('agreement');

export interface AgreementLifecycleView extends LifecycleState {
  version: number | null;
  /** When the workflow next wakes on its own (ISO), or null when it waits only for a change. */
  wakeAt: string | null;
}

export const agreementWorkflowId = (agreementId: string) => `agreement:${agreementId}`;

/**
 * One agreement's life, as long as it is in force (`agreement:<id>`, started at agreement sync):
 *
 *   read its terms (the version in force)
 *   → start the settlement of every month whose settlement day has come (months missed while
 *     Concierge was down, too), oldest first
 *   → remind the parties of a notice deadline 30 days before it, once
 *   → sleep until the next of those, or until a new version arrives
 *
 * An agreement whose term has ended and is settled waits for a new version; a removed one ends.
 * The rules (which month, which day, which deadline) are contracts/agreement-lifecycle.ts's.
 */
export async function agreementWorkflow(input: LifecycleState): Promise<LifecycleState> {
  const state: LifecycleState = { ...input, remindedDeadlines: [...input.remindedDeadlines] };
  let version: number | null = null;
  let wakeAt: Date | null = null;
  let changed = false;
  setHandler(agreementChanged, () => void (changed = true));
  setHandler(agreementQuery, () => ({ ...state, version, wakeAt: wakeAt?.toISOString() ?? null }));

  for (;;) {
    changed = false;
    const terms = await agreementLifecycleTerms({ agreementId: state.agreementId });
    if (!terms) return state; // never synced, or gone from the database
    version = terms.version;
    const plan = planLifecycle(terms, state, new Date());
    for (const month of plan.settle) {
      await startSettlement(terms, month);
      state.settledThrough = month;
    }
    if (plan.remind) {
      await sendNoticeReminder({ agreementId: state.agreementId, notice: { ...plan.remind, remindAt: plan.remind.remindAt.toISOString() } });
      // Only the next deadline is ever looked up: the last few are kept.
      state.remindedDeadlines = [...state.remindedDeadlines, plan.remind.deadline].slice(-12);
    }
    if (plan.settle.length > 0 || plan.remind) continue; // look again at once: more may be due
    if (!terms.inForce) return state;
    if (workflowInfo().continueAsNewSuggested) return continueAsNew<typeof agreementWorkflow>(state);
    wakeAt = plan.wakeAt;
    await (wakeAt ? condition(() => changed, Math.max(wakeAt.getTime() - Date.now(), 1)) : condition(() => changed));
  }
}

/**
 * Starts `settlement:<agreement>:<yyyy-mm>` on its own (it outlives this run); if that month is
 * being settled already (started from the API or the CLI), that settlement stands.
 */
async function startSettlement(terms: LifecycleTerms, month: string): Promise<void> {
  try {
    await startChild(settlementWorkflow, {
      workflowId: settlementWorkflowId(terms.agreementId, month),
      args: [{ agreementId: terms.agreementId, month }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    log.info('the month is being settled already', { agreementId: terms.agreementId, month });
  }
}
