import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type InjectedSinks } from '@temporalio/worker';
import { latency, type Latency } from './harness.js';
import { bareWorkflow, poke, type BareSinks } from './storm-workflow.js';

/**
 * Bare Temporal on the fault storm's server: trivial workflows (bench/storm-workflow.ts) started by
 * `client.workflow.signalWithStart`, run by a worker in the benchmark's own process on a task queue
 * of their own — what Temporal itself takes, with none of Concierge's work around it.
 */

const TASK_QUEUE = 'bench-storm-bare';

export interface BareRun {
  workflows: number;
  errors: number;
  lastError: string | null;
  /** signalWithStart's own round trip. */
  callLatency: Latency;
  /** From the call to the workflow's first (and only) task having run, as the worker's sink saw it. */
  ranLatency: Latency;
  /** From the first call until every workflow ran, in ms; null if some never did within the time allowed. */
  allRanMs: number | null;
  /** From the first call until the server counted every workflow completed (visibility, polled every 100 ms). */
  allCompletedMs: number | null;
  /** Workflows run per second: workflows ÷ allRanMs. */
  perSecond: number | null;
  /** One of them, to look at. */
  sampleWorkflowId: string;
}

/** The bundle is made before anything is measured: webpack takes a core for a second or two. */
export async function bundleBareWorkflow(): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./storm-workflow.ts', import.meta.url)), logger: quiet });
}

export async function startBareTemporal(options: { address: string; namespace: string; client: Client; workflowBundle: { code: string } }) {
  const { client } = options;
  const ranAt = new Map<string, number>();
  const sinks: InjectedSinks<BareSinks> = { bare: { ran: { fn: (info) => void ranAt.set(info.workflowId, Date.now()), callDuringReplay: false } } };
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({ connection, namespace: options.namespace, taskQueue: TASK_QUEUE, workflowBundle: options.workflowBundle, sinks });
  const running = worker.run();
  const completed = async () => (await client.workflow.count(`WorkflowType = "bareWorkflow" AND ExecutionStatus = "Completed"`)).count;

  /**
   * `offsets`: when each call starts after the first (ms), all of them free to overlap; 'serial':
   * each call once the previous one is answered. Waits up to `timeoutMs` for the workflows to run.
   */
  async function run(workflows: number, offsets: number[] | 'serial', timeoutMs: number): Promise<BareRun> {
    const prefix = `bench-bare-${randomUUID().slice(0, 8)}-`;
    const completedBefore = await completed();
    const calls = Array.from({ length: workflows }, (_, i) => ({ id: `${prefix}${i}`, startedAt: 0, answeredAt: 0 }));
    let errors = 0;
    let lastError: string | null = null;
    const call = async (c: (typeof calls)[number]) => {
      c.startedAt = Date.now();
      try {
        await client.workflow.signalWithStart(bareWorkflow, { workflowId: c.id, taskQueue: TASK_QUEUE, signal: poke, signalArgs: [1] });
        c.answeredAt = Date.now();
      } catch (error) {
        errors++;
        lastError = error instanceof Error ? error.message : String(error);
      }
    };
    const begin = Date.now() + 100;
    if (offsets === 'serial') {
      for (const c of calls) await call(c);
    } else {
      await Promise.all(
        calls.map(async (c, i) => {
          await sleep(Math.max(0, begin + offsets[i]! - Date.now()));
          await call(c);
        }),
      );
    }
    const firstCall = Math.min(...calls.map((c) => c.startedAt));
    const deadline = Date.now() + timeoutMs;
    while (calls.some((c) => c.answeredAt && !ranAt.has(c.id)) && Date.now() < deadline) await sleep(20);
    const ran = calls.filter((c) => ranAt.has(c.id));
    const allRanMs = ran.length === workflows ? Math.max(...ran.map((c) => ranAt.get(c.id)!)) - firstCall : null;
    let allCompletedMs: number | null = null;
    while (allCompletedMs === null && Date.now() < deadline) {
      if ((await completed()) - completedBefore >= workflows) allCompletedMs = Date.now() - firstCall;
      else await sleep(100);
    }
    return {
      workflows,
      errors,
      lastError,
      callLatency: latency(calls.filter((c) => c.answeredAt).map((c) => c.answeredAt - c.startedAt)),
      ranLatency: latency(ran.map((c) => ranAt.get(c.id)! - c.startedAt)),
      allRanMs,
      allCompletedMs,
      perSecond: allRanMs === null ? null : workflows / (allRanMs / 1000),
      sampleWorkflowId: calls[0]!.id,
    };
  }

  return {
    /** `workflows` calls spread evenly over `spreadMs`, free to overlap (as the storm's faults arrive). */
    burst: (workflows: number, spreadMs: number, timeoutMs: number) => run(workflows, evenly(workflows, spreadMs), timeoutMs),
    /** One call at a time, as the outbox relay delivers. */
    serial: (workflows: number, timeoutMs: number) => run(workflows, 'serial', timeoutMs),
    /** `perSecond` calls a second for `seconds`. */
    steady: (perSecond: number, seconds: number, timeoutMs: number) => run(perSecond * seconds, evenly(perSecond * seconds, seconds * 1000), timeoutMs),
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

export type BareTemporal = Awaited<ReturnType<typeof startBareTemporal>>;

/**
 * One `signalWithStart` every `intervalMs` while Concierge works, on a task queue no worker polls
 * (the workflows only start: three history events each): what a call like the outbox relay's
 * costs at that moment. `stop` returns the round trips.
 */
export function probeSignalWithStart(client: Client, intervalMs: number): { stop(): Promise<{ latency: Latency; errors: number }> } {
  const prefix = `bench-probe-${randomUUID().slice(0, 8)}-`;
  const roundTrips: number[] = [];
  let errors = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const began = Date.now();
      try {
        await client.workflow.signalWithStart(bareWorkflow, { workflowId: `${prefix}${i}`, taskQueue: `${TASK_QUEUE}-probe`, signal: poke, signalArgs: [i] });
        roundTrips.push(Date.now() - began);
      } catch {
        errors++;
      }
      await sleep(Math.max(0, began + intervalMs - Date.now()));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { latency: latency(roundTrips), errors };
    },
  };
}

/** `n` moments spread evenly over `spreadMs`, from 0. */
export function evenly(n: number, spreadMs: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * spreadMs) / n);
}

const quiet = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => undefined,
};
