import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

/**
 * When `CAPTURE_HISTORIES_DIR` is set (by `npm run capture-histories`), writes the history of every
 * workflow run the server holds into `<dir>/<source>/` as `{ workflowId, runId, history }`, for the
 * replay test's fixtures. Otherwise
 * does nothing: the suite itself never captures.
 */
export async function captureHistories(server: Client | string, source: string, workflowIds?: readonly string[]): Promise<void> {
  const root = process.env.CAPTURE_HISTORIES_DIR;
  if (!root) return;
  if (typeof server === 'string') {
    const connection = await Connection.connect({ address: server });
    try {
      return await captureHistories(new Client({ connection }), source, workflowIds);
    } finally {
      await connection.close();
    }
  }
  const client = server;
  const dir = path.join(root, source);
  mkdirSync(dir, { recursive: true });
  const write = async (workflowId: string, runId?: string) => {
    runId ??= (await client.workflow.getHandle(workflowId).describe()).runId;
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const type = started?.workflowType?.name ?? 'workflow';
    const name = `${type}--${workflowId.replace(/[^A-Za-z0-9_.-]+/g, '_')}--${runId.slice(0, 8)}.json`;
    writeFileSync(path.join(dir, name), `${JSON.stringify({ workflowId, runId, history: JSON.parse(historyToJSON(history)) as unknown }, null, 1)}\n`);
    return started?.continuedExecutionRunId || null;
  };
  if (workflowIds) {
    // The time-skipping server has no visibility queries: follow each id's runs back from the latest.
    for (const workflowId of workflowIds) {
      let previous = await write(workflowId);
      while (previous) previous = await write(workflowId, previous);
    }
    return;
  }
  for await (const run of client.workflow.list()) await write(run.workflowId, run.runId);
}
