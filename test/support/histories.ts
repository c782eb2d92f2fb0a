import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

/** The query that shows a workflow type's state (the incident's steps live there, not in a local activity's marker). */
const STATE_QUERIES: Record<string, string> = { incidentWorkflow: 'incident' };

export interface CaptureOptions {
  /** Only these workflows (all their runs); the time-skipping server lists none. */
  workflowIds?: readonly string[];
  /** The task queue whose worker is still running: its workflows' state is queried and kept beside the history. */
  liveTaskQueue?: string;
}

/**
 * When `CAPTURE_HISTORIES_DIR` is set (by `npm run capture-histories`), writes the history of every
 * workflow run the server holds into `<dir>/<source>/` as `{ workflowId, runId, history, state }`,
 * for the replay test's fixtures; `state` is what the workflow's query answered, when its worker
 * was there to answer. Otherwise does nothing: the suite itself never captures.
 */
export async function captureHistories(server: Client | string, source: string, options: CaptureOptions = {}): Promise<void> {
  const root = process.env.CAPTURE_HISTORIES_DIR;
  if (!root) return;
  if (typeof server === 'string') {
    const connection = await Connection.connect({ address: server });
    try {
      return await captureHistories(new Client({ connection }), source, options);
    } finally {
      await connection.close();
    }
  }
  const client = server;
  const dir = path.join(root, source);
  mkdirSync(dir, { recursive: true });
  const write = async (workflowId: string, runId?: string) => {
    const described = await client.workflow.getHandle(workflowId, runId).describe();
    runId = described.runId;
    const handle = client.workflow.getHandle(workflowId, runId);
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const type = started?.workflowType?.name ?? 'workflow';
    const query = STATE_QUERIES[type];
    const live = options.workflowIds !== undefined || described.taskQueue === options.liveTaskQueue;
    const state = query && live ? await client.withDeadline(Date.now() + 5_000, () => handle.query(query)).catch(() => null) : null;
    // The whole run id: runs of one workflow id started within a minute share a prefix (UUIDv7 begins with the time).
    const name = `${type}--${workflowId.replace(/[^A-Za-z0-9_.-]+/g, '_')}--${runId}.json`;
    writeFileSync(path.join(dir, name), `${JSON.stringify({ workflowId, runId, history: JSON.parse(historyToJSON(history)) as unknown, state }, null, 1)}\n`);
    return started?.continuedExecutionRunId || null;
  };
  if (options.workflowIds) {
    // Follow each id's runs back from the latest.
    for (const workflowId of options.workflowIds) {
      let previous = await write(workflowId);
      while (previous) previous = await write(workflowId, previous);
    }
    return;
  }
  for await (const run of client.workflow.list()) await write(run.workflowId, run.runId);
}
