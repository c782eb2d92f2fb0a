import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { Logger } from '../platform/log.js';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The Temporal CLI: TEMPORAL_CLI, else the one the setup step installed under .tools/, else `temporal` on PATH. */
export function findTemporalCli(explicit?: string): string {
  if (explicit) return explicit;
  const local = path.join(projectRoot, '.tools', 'venv', 'bin', 'temporal');
  return existsSync(local) ? local : 'temporal';
}

/** The time-skipping test server the setup step installed (used by tests for long timers). */
export function findTemporalTestServer(explicit?: string): string {
  if (explicit) return explicit;
  const local = path.join(projectRoot, '.tools', 'venv', 'bin', 'temporal-test-server');
  return existsSync(local) ? local : 'temporal-test-server';
}

export interface DevServerOptions {
  cli?: string;
  port: number;
  uiPort: number;
  /** SQLite file for persistence; without one the server keeps everything in memory (tests). */
  dbFile?: string;
  namespace: string;
  log: Logger;
  /** How long to wait for the server to answer; the first start on a new machine is the slowest. */
  readyTimeoutMs?: number;
  /** Server dynamic config, e.g. `{ 'limit.historyCount.suggestContinueAsNew': 60 }` (tests). */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * Runs `temporal server start-dev` with SQLite persistence, so workflows and their timers survive
 * a restart. A server left behind by a process that was killed is stopped first (pid file).
 *
 * The server picks free ports for its internal services itself and binds them a moment later;
 * another process can take one in between, and the server then exits while starting. That start
 * is tried again (the port we were given is never changed: clients know it).
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const { dbFile, log } = options;
  const pidFile = dbFile ? `${dbFile}.pid` : null;
  if (dbFile) mkdirSync(path.dirname(dbFile), { recursive: true });
  if (pidFile) await stopLeftover(pidFile, log);

  for (let attempt = 1; ; attempt++) {
    const outcome = await startOnce(options, pidFile);
    if (!(outcome instanceof StartFailure)) return outcome;
    if (!outcome.retryable || attempt === START_ATTEMPTS) throw outcome.error;
    log.warn({ attempt, reason: outcome.error.message }, 'temporal dev server exited while starting; trying again');
  }
}

const START_ATTEMPTS = 3;

class StartFailure {
  constructor(readonly error: Error, readonly retryable: boolean) {}
}

async function startOnce(options: DevServerOptions, pidFile: string | null): Promise<DevServer | StartFailure> {
  const { port, uiPort, dbFile, namespace, log } = options;
  const args = ['server', 'start-dev', ...(dbFile ? ['--db-filename', dbFile] : []), '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort)];
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  args.push('--log-level', 'warn', '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');

  // A file, never a pipe: the server outlives a Concierge killed with -9 and must not die writing.
  const logDir = dbFile ? null : mkdtempSync(path.join(os.tmpdir(), 'temporal-dev-'));
  const logPath = dbFile ? `${dbFile}.log` : path.join(logDir!, 'server.log');
  const removeLogDir = () => logDir && rmSync(logDir, { recursive: true, force: true });
  const logStart = existsSync(logPath) ? statSync(logPath).size : 0;
  const logFile = openSync(logPath, 'a');
  const cli = findTemporalCli(options.cli);
  // Own process group: a Ctrl-C reaches Concierge, which then stops the server after the worker.
  const child = spawn(cli, args, { stdio: ['ignore', logFile, logFile], detached: true });
  closeSync(logFile);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid && pidFile) writeFileSync(pidFile, String(child.pid));

  const address = `127.0.0.1:${port}`;
  const stopWaiting = new AbortController();
  const ready = waitUntilReachable(address, options.readyTimeoutMs ?? 60_000, stopWaiting.signal);
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const, (error: Error) => new StartFailure(error, false)),
    exited.then((code) => {
      const output = logTail(logPath, logStart);
      // Our own ports are fixed: another try cannot help when one of them is taken.
      const ownPortTaken = /can't set (frontend|ui) port/i.test(output);
      return new StartFailure(new Error(`temporal dev server exited with code ${code} while starting (log ${logPath}):\n${output}`), !ownPortTaken);
    }),
    spawnError.then((error) => new StartFailure(new Error(`cannot run the Temporal CLI "${cli}" (run the setup step or set TEMPORAL_CLI): ${error.message}`), false)),
  ]);
  stopWaiting.abort();
  if (outcome !== 'ready') {
    if (pidFile) rmSync(pidFile, { force: true });
    child.kill('SIGKILL');
    await Promise.race([exited, spawnError]);
    removeLogDir();
    return outcome;
  }
  log.info({ address, dbFile }, 'temporal dev server ready');
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    async stop() {
      await terminate(child, exited);
      if (pidFile) rmSync(pidFile, { force: true });
      removeLogDir();
    },
  };
}

/** The last lines the server wrote since `from`, for an error message. */
function logTail(logPath: string, from: number): string {
  try {
    const text = readFileSync(logPath, 'utf8').slice(from);
    return text.split('\n').filter(Boolean).slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function waitUntilReachable(address: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!signal?.aborted) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms`, { cause: error });
      await sleep(200);
    }
  }
}

async function terminate(child: ChildProcess, exited: Promise<unknown>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timeout = sleep(10_000).then(() => 'timeout' as const);
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

async function stopLeftover(pidFile: string, log: Logger) {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !isTemporal(pid)) return;
  log.warn({ pid }, 'stopping a temporal dev server left running by an earlier Concierge');
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
}

function isTemporal(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return isAlive(pid);
  }
}

/** Whether a process of this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
