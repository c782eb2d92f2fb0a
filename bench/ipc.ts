import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** Messages between the benchmark and its child processes (servers and load generators). */

export interface HeapReport {
  heapUsed: number;
  rss: number;
  external: number;
}

export interface ServerStats {
  /** Chargers the server holds a socket for, by its own count. */
  connected: number;
  /** CPU time the server process used so far (every thread), in ms. */
  cpuMs: number;
  /**
   * Wall time the main thread's event loop was busy so far (not waiting for I/O), in ms. On a
   * machine the load generators share, it includes time the thread was ready but not running, so
   * it is no CPU figure: 100 % says the main thread is what limits the server.
   */
  mainThreadBusyMs: number;
  /** CPU time the server's main thread used so far, in ms; null where /proc is not there to tell. */
  mainThreadCpuMs: number | null;
  /** The server's own event-loop delay since the previous stats request, in ms: stalls every charger waits out. */
  loopDelay: { p99Ms: number; maxMs: number };
}

export type ServerRequest =
  | { type: 'heap' }
  | { type: 'stats' }
  /** Starts a CPU profile of the server's main thread; `profile-end` writes it to `file`. */
  | { type: 'profile-start' }
  | { type: 'profile-end'; file: string }
  /** Concierge only: its own records of the status reports stored since `sinceMs` and the incidents opened since. */
  | { type: 'pipeline'; sinceMs: number }
  | { type: 'stop' };
export type ServerReply =
  /** `temporalAddress`: Concierge's Temporal frontend (its dev server, or TEMPORAL_ADDRESS). */
  | { type: 'ready'; url: string; temporalAddress?: string }
  | ({ type: 'pipeline' } & Pipeline)
  | ({ type: 'heap' } & HeapReport)
  | ({ type: 'stats' } & ServerStats)
  | { type: 'profiling' }
  | { type: 'profiled'; file: string }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

/**
 * What Concierge's database says happened to status reports, read after a phase (times in epoch
 * ms): when the gateway stored each report's outbox event, when the outbox relay delivered it to
 * Temporal, and when each incident workflow opened its incident (workflow time).
 */
export interface Pipeline {
  events: Array<{ chargerId: string; connectorId: number; kind: 'fault' | 'status'; storedAt: number; deliveredAt: number | null; attempts: number }>;
  incidents: Array<{ chargerId: string; connectorId: number; workflowId: string; openedAt: number }>;
}

export interface GeneratorSetup {
  url: string;
  protocol: '1.6' | '2.0.1';
  password: string;
  idPrefix: string;
  firstNumber: number;
  chargers: number;
  intervalMs: number;
  sessionsPerHour: number;
  faultRatePerHour: number;
  connectRatePerSecond: number;
  maxConnecting: number;
  /** Connectors per charger (default 1). */
  connectors?: number;
}

/** An OCPP 1.6 StatusNotification one charger sends at a given time (epoch ms). */
export interface StatusReport {
  chargerId: string;
  connectorId: number;
  status: 'Faulted' | 'Available';
  errorCode: string;
  at: number;
}

/** When a report was sent and answered (epoch ms); `answeredAt` null with the error when it failed. */
export interface StatusReportResult {
  sentAt: number;
  answeredAt: number | null;
  error: string | null;
}

export type MeasuredAction = 'MeterValues' | 'Heartbeat';

export type GeneratorRequest =
  | ({ type: 'start' } & GeneratorSetup)
  /** Periodic traffic on, recording its round-trip times, for `durationMs`. */
  | { type: 'hold'; durationMs: number }
  | { type: 'pause' }
  /** `inFlight` chargers each send `action` back to back; answers inside the window after `warmupMs` are counted. */
  | { type: 'saturate'; action: MeasuredAction; inFlight: number; warmupMs: number; durationMs: number }
  /** `ratePerSecond` calls of `action` spread over all chargers; round-trip times after `warmupMs` are kept. */
  | { type: 'steady'; action: MeasuredAction; ratePerSecond: number; warmupMs: number; durationMs: number }
  /** Each report sent at its time; a charger's reports one after another, each once the previous one is answered (OCPP-J). */
  | { type: 'report-statuses'; reports: StatusReport[] }
  | { type: 'stop' };

export interface CallTally {
  sent: number;
  answered: number;
  errors: number;
  lastError: string | null;
  /** The generator's own event-loop delay (99th percentile, ms) over the phase: its share of the measured times. */
  loopDelayP99Ms: number;
  /** CPU time the generator process used over the phase (every thread), in ms. */
  cpuMs: number;
}

export type GeneratorReply =
  | { type: 'started'; connected: number; booted: number; connectFailures: number; elapsedMs: number; lastError: string | null }
  | ({ type: 'held'; latenciesMs: number[]; connected: number } & CallTally)
  | { type: 'paused' }
  | ({ type: 'saturated'; windowMs: number } & CallTally)
  | ({ type: 'steadied'; latenciesMs: number[]; windowMs: number } & CallTally)
  /** `results` in the order of the request's reports; `cpuMs`: the generator's CPU time over the request. */
  | { type: 'statuses-reported'; results: StatusReportResult[]; cpuMs: number }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

/** A child process running a TypeScript file of this folder, with a typed request/reply channel. */
export class Child<Request extends { type: string }, Reply extends { type: string }> {
  readonly process: ChildProcess;
  private readonly inbox: Reply[] = [];
  private readonly waiters: Array<{ type: string; resolve: (reply: Reply) => void; reject: (error: Error) => void }> = [];
  private exited: Error | null = null;

  constructor(file: string, options: { args?: string[]; exposeGc?: boolean; nodeOptions?: string[]; env?: NodeJS.ProcessEnv } = {}) {
    const execArgv = ['--import', 'tsx', ...(options.exposeGc ? ['--expose-gc'] : []), ...(options.nodeOptions ?? [])];
    this.process = fork(fileURLToPath(new URL(file, import.meta.url)), options.args ?? [], { execArgv, env: options.env ?? process.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.process.on('message', (message) => {
      const reply = message as Reply;
      if (reply.type === 'failed') return this.fail(new Error(`${file}: ${(reply as unknown as { message: string }).message}`));
      const index = this.waiters.findIndex((w) => w.type === reply.type);
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(reply);
      else this.inbox.push(reply);
    });
    this.process.once('exit', (code, signal) => this.fail(new Error(`${file} exited (code ${code}, signal ${signal})`)));
  }

  send(request: Request): void {
    this.process.send(request);
  }

  /** The next reply of `type` (already received or still to come). */
  next<T extends Reply['type']>(type: T, timeoutMs = 600_000): Promise<Extract<Reply, { type: T }>> {
    const index = this.inbox.findIndex((r) => r.type === type);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0] as Extract<Reply, { type: T }>);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${type}" reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply as Extract<Reply, { type: T }>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  async request<T extends Reply['type']>(request: Request, replyType: T, timeoutMs?: number): Promise<Extract<Reply, { type: T }>> {
    const reply = this.next(replyType, timeoutMs);
    this.send(request);
    return reply;
  }

  /** Asks the child to stop and waits for it to exit; kills it if it does not within `graceMs`. */
  async stop(request: Request, graceMs = 60_000): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.send(request);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  }

  private fail(error: Error) {
    this.exited ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

/** In a child: answers the parent's requests with `handle`; a thrown error is reported as `failed`. */
export function serveParent<Request extends { type: string }, Reply extends { type: string }>(
  handle: (request: Request) => Promise<Reply | void>,
  onOrphaned: () => Promise<void> = async () => undefined,
): void {
  if (!process.send) throw new Error('run this file through bench/gateway.ts (it needs an IPC channel)');
  process.on('message', (message) => {
    handle(message as Request)
      .then((reply) => reply && tellParent(reply))
      .catch((error: unknown) => tellParent({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  // Without a parent there is nothing left to serve: clean up and go.
  process.on('disconnect', () => void onOrphaned().finally(() => process.exit(1)));
}

export function tellParent<T extends { type: string }>(message: T): void {
  process.send?.(message);
}

/** heapUsed after full collections (needs --expose-gc). */
export async function measuredHeap(): Promise<HeapReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start this process with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { heapUsed, rss, external } = process.memoryUsage();
  return { heapUsed, rss, external };
}

let serverLoop: IntervalHistogram | undefined;

/** The server's event-loop delay since the previous call (the first call starts the measurement). */
export function loopDelaySinceLastCall(): ServerStats['loopDelay'] {
  if (!serverLoop) {
    serverLoop = monitorEventLoopDelay({ resolution: 5 });
    serverLoop.enable();
  }
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const delay = { p99Ms: ms(serverLoop.percentile(99)), maxMs: ms(serverLoop.max) };
  serverLoop.reset();
  return delay;
}

export const mainThreadBusyMs = () => performance.eventLoopUtilization().active;

export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Linux's clock ticks per second, the unit of the CPU times in /proc. */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();
const ticksToMs = (ticks: number) => (ticks * 1000) / ticksPerSecond;

/** CPU time of the calling thread so far, in ms (Linux: /proc/thread-self); null elsewhere. */
export const threadCpuMs = (): number | null => statCpuMs('/proc/thread-self/stat');

/** CPU time another process used so far (every thread), in ms (Linux: /proc/<pid>/stat); null where it cannot be read. */
export const processCpuMs = (pid: number): number | null => statCpuMs(`/proc/${pid}/stat`);

function statCpuMs(statFile: string): number | null {
  try {
    // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(statFile, 'utf8').split(') ')[1]!.split(' ');
    return ticksToMs(Number(fields[11]) + Number(fields[12]));
  } catch {
    return null;
  }
}

/** CPU time of the whole machine so far, busy and idle (summed over its cores), in ms; null where /proc is not there to tell. */
export function machineCpuMs(): { busyMs: number; idleMs: number } | null {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal (guest time is already counted in user).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = ticks.map(Number);
    return { busyMs: ticksToMs(user + nice + system + irq + softirq + steal), idleMs: ticksToMs(idle + iowait) };
  } catch {
    return null;
  }
}

let profiler: Session | undefined;

/**
 * The answers to the profile requests: a V8 CPU profile of this thread over the measured phases
 * only (`--cpu-prof` covers the whole life, minutes of connecting included, and is written at exit).
 */
export async function profileRequest(request: Extract<ServerRequest, { type: 'profile-start' | 'profile-end' }>): Promise<ServerReply> {
  if (request.type === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    return { type: 'profiling' };
  }
  if (!profiler) throw new Error('no profile was started');
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(request.file, JSON.stringify(profile));
  return { type: 'profiled', file: request.file };
}
