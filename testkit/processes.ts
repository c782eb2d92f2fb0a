import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

const root = path.resolve(import.meta.dirname, '..');

export interface ConciergeProcess {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
}

/**
 * `concierge start` in its own OS process, as production runs it, waiting until /health answers
 * 200. `env` is added to this process's environment (so TEST_* and PATH carry over). A restart that
 * chargers must find again passes the port it had.
 */
export async function startProcess(name: string, env: NodeJS.ProcessEnv, port?: number): Promise<ConciergeProcess> {
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'start'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${output}`);
    return (await fetch(`${url}/health`).catch(() => null))?.status === 200;
  }, 90_000, `${name} to be healthy`);
  return { name, url, child, output: () => output };
}

/** Stops a process with a signal (SIGKILL: no clean-up at all) and waits for it to exit. */
export async function stopProcess(process: ConciergeProcess, signal: NodeJS.Signals): Promise<void> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return;
  const exited = new Promise((resolve) => process.child.once('exit', resolve));
  process.child.kill(signal);
  await exited;
}
