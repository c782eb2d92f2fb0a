import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import pg from 'pg';

/** What every benchmark run needs (the gateway benchmark, the fault storm): option parsers, figures, the run's facts, clean-up. */

export const positiveInteger = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return n;
};

export const zeroOrMore = (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number from 0');
  return n;
};

/** A progress line on stderr: `[bench 12:34:56] message`. */
export const logTo =
  (name: string) =>
  (message: string): void =>
    console.error(`[${name} ${new Date().toISOString().slice(11, 19)}] ${message}`);

/**
 * The child processes' stops, run on Ctrl-C before this process exits (a second Ctrl-C exits at
 * once); a benchmark adds each child's stop as it starts it.
 */
export function stopsOnInterrupt(what: string): Set<() => Promise<void>> {
  const stops = new Set<() => Promise<void>>();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\nstopping the ${what}: children first`);
    void Promise.all([...stops].map((stop) => stop())).finally(() => process.exit(130));
  });
  return stops;
}

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function latency(samples: number[]): Latency {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN);
  return { count: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.length ? sorted[sorted.length - 1]! : NaN) };
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function round(n: number, digits = 1): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function µs(n: number): string {
  return Number.isFinite(n) ? `${Math.round(n)} µs` : '—';
}

/** The commit measured, marked when the working tree had changes outside the harness (bench/, the simulator). */
export function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.slice(3))
      .filter((file) => file && !file.startsWith('bench/') && !file.startsWith('simulator/'));
    return changed.length ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

/** "AMD EPYC, 2 cores, 23.5 GiB RAM, Node v20.20.2, linux x64". */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

/** The Temporal dev server Concierge started under DATA_DIR: its pid (from the pid file), if it still runs. */
export function devServerPid(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'temporal.sqlite.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    return Number.isInteger(pid) && pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev') ? pid : null;
  } catch {
    return null; // already gone
  }
}

/**
 * A server that had to be killed (it did not stop within the grace period) leaves its Temporal dev
 * server running: Concierge starts it detached, so it survives a crash. Its pid file is in DATA_DIR.
 */
export function stopLeftoverTemporal(dataDir: string, log: (message: string) => void): void {
  const pid = devServerPid(dataDir);
  if (pid === null) return;
  try {
    process.kill(pid, 'SIGKILL');
    log(`stopped the Temporal dev server the killed server left running (pid ${pid})`);
  } catch {
    // already gone
  }
}

/** A fresh PostgreSQL database for one run, dropped afterwards. */
export async function scratchDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `concierge_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
