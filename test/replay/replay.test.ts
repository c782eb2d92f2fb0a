import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type History } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { readCaptured, SCENARIOS } from './scenarios.js';

/**
 * Workflows already running when a new Concierge is deployed go on under the new code: it must
 * issue the same commands for the events their histories hold. These histories were captured from
 * real runs (`npm run capture-histories`, see docs/contributing.md); a change to `workflows/` that
 * breaks one needs `patched()`.
 */
describe('replaying captured workflow histories against the current workflow code', () => {
  const captured = readCaptured();

  async function replay(histories: Array<{ workflowId: string; history: History }>) {
    const outcomes: Array<{ workflowId: string; error: Error | undefined }> = [];
    const options = { workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: 'replay-test' };
    for await (const result of Worker.runReplayHistories(options, histories)) outcomes.push({ workflowId: result.workflowId, error: result.error });
    return outcomes;
  }

  it.each(Object.keys(SCENARIOS))('holds a history of: %s', (scenario) => {
    const holding = captured.filter(SCENARIOS[scenario]!).map((h) => h.file);
    expect(holding, `no captured history shows "${scenario}"`).not.toEqual([]);
  });

  it('replays every captured history without a nondeterminism error', { timeout: 300_000 }, async () => {
    const outcomes = await replay(captured);
    expect(outcomes).toHaveLength(captured.length);
    const failed = outcomes.filter((o) => o.error).map((o) => `${o.workflowId}: ${o.error!.message}`);
    expect(failed).toEqual([]);
  });

  it('would notice: a history whose first activity had another type fails to replay as nondeterministic', async () => {
    const original = captured.find((h) => h.workflowType === 'incidentWorkflow' && h.activities.has('saveIncident'))!;
    const tampered = structuredClone(original.history);
    const scheduled = tampered.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'saveIncident')!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'somethingElse';
    const [outcome] = await replay([{ workflowId: original.workflowId, history: tampered }]);
    expect(outcome?.error).toBeInstanceOf(DeterminismViolationError);
  });
});
