import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { Logger } from './log.js';

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
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * Runs `temporal server start-dev` with SQLite persistence, so workflows and their timers survive
 * a restart. A server left behind by a process that was killed is stopped first (pid file).
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const { port, uiPort, dbFile, namespace, log } = options;
  const pidFile = dbFile ? `${dbFile}.pid` : null;
  if (dbFile) mkdirSync(path.dirname(dbFile), { recursive: true });
  if (pidFile) await stopLeftover(pidFile, log);

  const args = ['server', 'start-dev', ...(dbFile ? ['--db-filename', dbFile] : []), '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort)];
  if (namespace !== 'default') args.push('--namespace', namespace);
  args.push('--log-level', 'warn', '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');

  const logFile = dbFile ? openSync(`${dbFile}.log`, 'a') : 'ignore';
  const cli = findTemporalCli(options.cli);
  // Own process group: a Ctrl-C reaches Concierge, which then stops the server after the worker.
  const child = spawn(cli, args, { stdio: ['ignore', logFile, logFile], detached: true });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid && pidFile) writeFileSync(pidFile, String(child.pid));

  const address = `127.0.0.1:${port}`;
  const ready = waitUntilReachable(address, options.readyTimeoutMs ?? 60_000);
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => new Error(`temporal dev server exited with code ${code}${dbFile ? `; see ${dbFile}.log` : ''}`)),
    spawnError.then((error) => new Error(`cannot run the Temporal CLI "${cli}" (run the setup step or set TEMPORAL_CLI): ${error.message}`)),
  ]);
  if (outcome !== 'ready') {
    if (pidFile) rmSync(pidFile, { force: true });
    child.kill('SIGKILL');
    throw outcome;
  }
  log.info({ address, dbFile }, 'temporal dev server ready');
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    async stop() {
      await terminate(child, exited);
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}

export async function waitUntilReachable(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
