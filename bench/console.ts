import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { openDatabase } from '../db/connect.js';
import { hashPassword } from '../platform/secrets.js';
import { RawCharger } from '../simulator/raw-charger.js';
import { freePort } from '../testkit/ports.js';
import { commit, int, logTo, machine, positiveInteger, round, scratchDatabase, stopLeftoverTemporal } from './harness.js';

/**
 * The console benchmark (`npm run bench -- console`): Concierge as `concierge start` runs it, in a
 * process of its own, on PostgreSQL (a scratch database) with its own Temporal dev server.
 * 1. The dispatcher board with 1,000 open incidents: one real incident (a driver's report through
 *    the API and its workflow) and 999 copies of its row, as its projection stores them; the board
 *    is asked for again and again, each answer timed whole (server time on loopback). Beside it, in
 *    the same run, the sign-in page (no database read): the floor of a console answer.
 * 2. 50 boards on the live stream (`/console/live`, Server-Sent Events), sorted newest first (the
 *    board a dispatcher watches for new faults), each fetching its rows on every event as htmx
 *    does (one request at a time, the last trigger queued), while chargers
 *    report faults over OCPP at 10/s, each on a charger of its own: fault sent → the fault's
 *    incident in that board's rows, per board and fault. Beside it: fault sent → incident row
 *    stored (its openedAt), the floor no board can beat.
 */

interface ConsoleBenchOptions {
  incidents: number;
  requests: number;
  boards: number;
  rate: number;
  seconds: number;
  databaseUrl?: string;
  out: string;
  write: boolean;
}

const log = logTo('console');
const PASSWORD = 'bench-console-charger';

export async function runConsoleBench(argv: string[]): Promise<number> {
  const program = new Command('bench console')
    .description('The dispatcher board with 1,000 open incidents (server time p95), and 50 live boards while faults arrive at 10/s (fault → board p99); on PostgreSQL')
    .option('--incidents <n>', 'open incidents on the board', positiveInteger, 1000)
    .option('--requests <n>', 'board requests timed', positiveInteger, 200)
    .option('--boards <n>', 'boards connected to the live stream', positiveInteger, 50)
    .option('--rate <n>', 'faults per second during the live phase', positiveInteger, 10)
    .option('--seconds <n>', 'how long faults arrive', positiveInteger, 30)
    .option('--database-url <url>', 'a PostgreSQL server (an admin URL: a scratch database is created and dropped); default TEST_DATABASE_URL or DATABASE_URL')
    .option('--out <file>', 'where the results are appended', 'docs/benchmarks.md')
    .option('--no-write', 'print the results only');
  program.parse(argv, { from: 'user' });
  const options = program.opts<ConsoleBenchOptions>();
  const adminUrl = options.databaseUrl ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!adminUrl) {
    console.error('the console benchmark runs on PostgreSQL (its generator writes incident rows beside the server): pass --database-url or set TEST_DATABASE_URL');
    return 1;
  }
  const scratch = await scratchDatabase(adminUrl);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-bench-console-'));
  const adminToken = `cgt_${randomBytes(18).toString('base64url')}`;
  const [port, temporalPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const liveChargers = options.rate * options.seconds;
  const db = openDatabase({ url: scratch.url });
  const server = spawn(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'start'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: scratch.url, TEMPORAL_DEV_PORT: String(temporalPort), CONCIERGE_ADMIN_TOKEN: adminToken, LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await until(async () => (await fetch(`${base}/health`).catch(() => null))?.ok === true, 120_000, 'Concierge to start');
    log(`Concierge is up on ${base} (PostgreSQL, its own Temporal dev server)`);
    const api = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${base}${route}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, unknown>;
    };

    // Chargers, written as registration writes them (one password hash, shared: the benchmark's own).
    const passwordHash = await hashPassword(PASSWORD);
    const seedCharger = 'ALPINA-01';
    const live = Array.from({ length: liveChargers }, (_, i) => `LIVE-${String(i).padStart(5, '0')}`);
    await api('POST', '/api/chargers', { id: seedCharger, password: PASSWORD });
    for (let i = 0; i < live.length; i += 1000) await db.insertInto('chargers').values(live.slice(i, i + 1000).map((id) => ({ id, passwordHash }))).execute();

    // One real incident, then its row copied: the board reads the projection only.
    const reported = await api('POST', '/api/incidents', { chargerId: seedCharger, connectorId: 1, description: 'Screen dark', reporter: { name: 'Driver' } });
    const seed = await until(async () => db.selectFrom('incidents').selectAll().where('id', '=', reported.incidentId as string).executeTakeFirst(), 30_000, 'the seed incident');
    const copies = Array.from({ length: options.incidents - 1 }, (_, i) => {
      const id = `bench-${String(i).padStart(5, '0')}`;
      return { ...seed, id, workflowId: `incident:BOARD-${i}:1`, runId: id, chargerId: `BOARD-${String(i).padStart(5, '0')}`, state: JSON.stringify({ ...(seed.state as object), id }) };
    });
    for (let i = 0; i < copies.length; i += 500) await db.insertInto('incidents').values(copies.slice(i, i + 500)).execute();
    const open = await db.selectFrom('incidents').select((eb) => eb.fn.countAll<string>().as('n')).where('status', 'not in', ['resolved', 'cancelled']).executeTakeFirstOrThrow();
    log(`${open.n} open incidents`);

    const cookie = await signIn(base, adminToken);
    const timed = async (route: string) => {
      const started = performance.now();
      const response = await fetch(`${base}${route}`, { headers: { cookie } });
      const body = await response.text();
      if (!response.ok) throw new Error(`${route}: ${response.status}`);
      return { ms: performance.now() - started, bytes: body.length };
    };
    for (let i = 0; i < 10; i++) await timed('/console/board');
    const board: number[] = [];
    let boardBytes = 0;
    for (let i = 0; i < options.requests; i++) {
      const { ms, bytes } = await timed('/console/board');
      board.push(ms);
      boardBytes = bytes;
    }
    const floor: number[] = [];
    for (let i = 0; i < options.requests; i++) floor.push((await timed('/console/sign-in')).ms);
    const boardStats = quantiles(board);
    const floorStats = quantiles(floor);
    log(`board with ${open.n} incidents: p50 ${boardStats.p50} ms, p95 ${boardStats.p95} ms (${int(boardBytes / 1024)} KiB); sign-in page p95 ${floorStats.p95} ms`);

    // The live phase: boards on the stream, chargers connected, faults at the rate.
    const sockets: RawCharger[] = [];
    for (const id of live) {
      const socket = await RawCharger.connect(`ws://127.0.0.1:${port}`, id, PASSWORD);
      await socket.call('BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Live' });
      sockets.push(socket);
    }
    const sentAt = new Map<string, number>();
    let unanswered = 0;
    const delays: number[] = [];
    const boards = await Promise.all(Array.from({ length: options.boards }, () => openBoard(base, cookie, sentAt, delays)));
    await sleep(1000);
    log(`${options.boards} boards on the live stream; ${live.length} chargers connected; faults at ${options.rate}/s for ${options.seconds} s`);
    const start = performance.now();
    for (const [i, socket] of sockets.entries()) {
      const due = start + (i * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sentAt.set(live[i]!, performance.now());
      socket.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: new Date().toISOString() }).catch(() => unanswered++);
    }
    const expected = live.length * options.boards;
    await until(async () => delays.length >= expected || null, 120_000, 'every board to show every fault').catch((error: unknown) => log(String(error)));
    const wall = Date.now();
    const stored = await db.selectFrom('incidents').select(['chargerId', 'openedAt']).where('chargerId', 'in', live).execute();
    // Fault sent → row stored, on the wall clock (performance.now() offsets mapped to it).
    const offset = wall - performance.now();
    const storedDelays = stored.map((r) => r.openedAt.getTime() - (sentAt.get(r.chargerId)! + offset));
    for (const b of boards) b.close();
    for (const socket of sockets) await socket.close();
    const liveStats = quantiles(delays);
    const storedStats = quantiles(storedDelays);
    log(`fault → board: p50 ${liveStats.p50} ms, p99 ${liveStats.p99} ms, ${int(delays.length)} of ${int(expected)} seen; fault → row stored p99 ${storedStats.p99} ms; ${unanswered} faults the gateway did not answer in time`);

    const at = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const report = [
      `## ${at} UTC — console: the board with ${int(Number(open.n))} open incidents, ${options.boards} live boards at ${options.rate} faults/s, on PostgreSQL`,
      '',
      `Machine: ${machine()}. Commit: ${commit()}. Concierge: \`concierge start\` in its own process, PostgreSQL (scratch database), its own Temporal dev server; the benchmark's clients in another process on the same two cores.`,
      '',
      '| measure | target | this run | beside it, same run |',
      '| --- | --- | --- | --- |',
      `| board page, ${int(Number(open.n))} open incidents (${int(boardBytes / 1024)} KiB), ${options.requests} requests one at a time | p95 < 200 ms | p50 ${boardStats.p50} ms, **p95 ${boardStats.p95} ms** ${boardStats.p95 < 200 ? '✅' : '❌'}, max ${boardStats.max} ms | the sign-in page (no database): p95 ${floorStats.p95} ms |`,
      `| fault → on each of ${options.boards} live boards, ${options.rate} faults/s for ${options.seconds} s | p99 < 2 s | p50 ${liveStats.p50} ms, **p99 ${liveStats.p99} ms** ${liveStats.p99 < 2000 && delays.length >= expected ? '✅' : '❌'}, max ${liveStats.max} ms; ${int(delays.length)} of ${int(expected)} seen${unanswered ? `; ${unanswered} faults unanswered within the charger's timeout` : ''} | fault → incident row stored: p50 ${storedStats.p50} ms, p99 ${storedStats.p99} ms |`,
      '',
    ].join('\n');
    console.log(`\n${report}`);
    if (options.write) appendFileSync(options.out, `\n${report}`);
    return 0;
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    stopLeftoverTemporal(dataDir, log);
    await db.destroy();
    await scratch.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Signs in as the console does (a form post from our own origin) and returns the session cookie. */
async function signIn(base: string, token: string): Promise<string> {
  const response = await fetch(`${base}/console/sign-in`, { method: 'POST', redirect: 'manual', headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`sign-in failed: ${response.status}`);
  return cookie;
}

/**
 * A board as the browser runs it: the live stream open, and on each event its rows fetched — one
 * request at a time, a trigger during one queued (htmx's default). Each fault's charger first seen
 * in the rows gives a delay.
 */
async function openBoard(base: string, cookie: string, sentAt: Map<string, number>, delays: number[]) {
  const seen = new Set<string>();
  const controller = new AbortController();
  let fetching = false;
  let queued = false;
  const refresh = async () => {
    if (fetching) {
      queued = true;
      return;
    }
    fetching = true;
    try {
      do {
        queued = false;
        const html = await (await fetch(`${base}/console/board/rows?sort=opened`, { headers: { cookie }, signal: controller.signal })).text();
        const now = performance.now();
        for (const [charger, sent] of sentAt) {
          if (!seen.has(charger) && html.includes(`>${charger}<`)) {
            seen.add(charger);
            delays.push(now - sent);
          }
        }
      } while (queued && !controller.signal.aborted);
    } catch {
      // aborted at the end
    } finally {
      fetching = false;
    }
  };
  const stream = await fetch(`${base}/console/live`, { headers: { cookie, accept: 'text/event-stream' }, signal: controller.signal });
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) if (decoder.decode(chunk).includes('event: incidents')) void refresh();
    } catch {
      // aborted at the end
    }
  })();
  return { close: () => controller.abort() };
}

function quantiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN);
  return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? NaN) };
}

async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}
