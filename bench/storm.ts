import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Command } from 'commander';
import { chargerIds, httpBaseOf, registerChargers } from '../simulator/index.js';
import { findTemporalCli } from '../runtime/temporal-dev-server.js';
import type { ConciergeServerSetup } from './concierge-server.js';
import { commit, devServerPid, int, latency, logTo, machine, positiveInteger, round, scratchDatabase, stopLeftoverTemporal, stopsOnInterrupt, sum, type Latency } from './harness.js';
import { connectorKey, incidentsByCharger, watchIncidents, type Api, type IncidentView, type Watched } from './incident-watch.js';
import { Child, machineCpuMs, processCpuMs, type GeneratorReply, type GeneratorRequest, type Pipeline, type ServerReply, type ServerRequest, type StatusReport, type StatusReportResult } from './ipc.js';
import { bundleBareWorkflow, evenly, probeSignalWithStart, startBareTemporal, type BareRun } from './storm-bare.js';

/**
 * The fault storm (`npm run bench -- storm`): Concierge as `concierge start` runs it, with its own
 * Temporal dev server on SQLite, and OCPP 1.6 chargers registered through the API, connected from
 * load-generator processes. Every charger reports Faulted within one second, then Available, then
 * Faulted again; the API is polled until each incident is visible, and each connector is checked
 * for exactly one incident holding both faults. Then a steady rate of faults, one per charger, for
 * the time from fault to visible. On the same Temporal server, in the same run: bare
 * `signalWithStart` of trivial workflows at the same rates (bench/storm-bare.ts), the yardstick.
 */

interface StormOptions {
  chargers: number;
  spread: number;
  flapGap: number;
  steadyRate: number;
  steadySeconds: number;
  perGenerator: number;
  databaseUrl?: string;
  stormPoll: number;
  stormLimit: number;
  steadyPoll: number;
  steadyLimit: number;
  timeout: number;
  out: string;
  profile?: string;
  traceGc?: boolean;
  write: boolean;
}

const PASSWORD = 'storm-charger-secret-0001';
const ID_PREFIX = 'STORM-';
const STORM_CONNECTOR = 1;
const STEADY_CONNECTOR = 2;
const PROBE_EVERY_MS = 1_000;
const log = logTo('storm');

/** Runs the storm with the command-line arguments after `storm`; returns the exit code. */
export async function runStorm(argv: string[]): Promise<number> {
  const program = new Command('bench storm')
    .description('A fault storm against one Concierge process: every charger faults within a second, clears and faults again; then a steady fault rate; bare Temporal beside it')
    .option('--chargers <n>', 'OCPP 1.6 chargers, registered through the API', positiveInteger, 1000)
    .option('--spread <ms>', 'the first faults are spread evenly over this long', positiveInteger, 1000)
    .option('--flap-gap <ms>', 'a charger reports Available this long after its fault, and Faulted again as long after that', positiveInteger, 500)
    .option('--steady-rate <n>', 'faults per second in the steady phase (each on a different charger)', positiveInteger, 10)
    .option('--steady-seconds <n>', 'length of the steady phase (rate × seconds must not exceed the chargers)', positiveInteger, 60)
    .option('--per-generator <n>', 'chargers per load-generator process (at least two processes)', positiveInteger, 5000)
    .option('--database-url <url>', 'run Concierge on PostgreSQL: a scratch database is created through this URL and dropped afterwards (default: embedded PGlite)')
    // Each poll is work for the Concierge it measures (500 incidents with their faults and steps took 250 ms here): small pages.
    .option('--storm-poll <ms>', 'API poll interval during the storm: one GET /api/incidents?open=true&limit=<storm-limit> a poll', positiveInteger, 500)
    .option('--storm-limit <n>', 'incidents a storm poll asks for (newest first; at most 500)', positiveInteger, 100)
    .option('--steady-poll <ms>', 'API poll interval during the steady phase', positiveInteger, 100)
    .option('--steady-limit <n>', 'incidents a steady poll asks for (newest first; at most 500)', positiveInteger, 30)
    .option('--timeout <s>', 'how long a phase may take to become visible before the run gives up on the rest', positiveInteger, 600)
    .option('--profile <dir>', "write a V8 CPU profile (.cpuprofile) of Concierge's main thread over the storm and over the steady phase into this folder")
    .option('--trace-gc', "run Concierge with node's --trace-gc: every garbage collection of each of its threads, with its pause, on standard output")
    .option('--out <file>', 'the Markdown file results are appended to', 'docs/benchmarks.md')
    .option('--no-write', 'print the results only')
    .parse(argv, { from: 'user' });
  const options = program.opts<StormOptions>();
  if (options.steadyRate * options.steadySeconds > options.chargers) program.error(`--steady-rate × --steady-seconds (${options.steadyRate * options.steadySeconds}) must not exceed --chargers (${options.chargers}): each steady fault goes to a charger of its own`);

  const stopChildren = stopsOnInterrupt('storm');

  try {
    const result = await measureStorm(options, stopChildren);
    const report = formatReport(options, result);
    console.log(report);
    if (options.write) {
      appendFileSync(options.out, `\n${report}`);
      log(`appended to ${options.out}`);
    }
    return 0;
  } catch (error) {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

interface TemporalFacts {
  address: string;
  /** The dev server Concierge started (null: an external TEMPORAL_ADDRESS). */
  devServer: { pid: number; version: string; dbFile: string | null; pragmas: string[]; walFile: boolean } | null;
  historyShards: number;
}

/** CPU over a phase, in % of one core, by process; null where it could not be read. */
interface CpuShares {
  wallMs: number;
  temporal: number | null;
  concierge: number | null;
  generators: number | null;
  bench: number | null;
  machineBusy: number | null;
  cores: number;
}

interface Verification {
  chargers: number;
  missing: number;
  duplicated: number;
  /** Connectors whose one incident holds the expected number of faults. */
  complete: number;
  /** How many faults the incidents held: count → connectors. */
  faultCounts: Record<number, number>;
  examples: string[];
}

interface Stages {
  /** Per fault: sent → the gateway's outbox event stored; stored → the relay's signalWithStart returned; → the workflow opened the incident; → seen in the API. */
  stored: Latency;
  relayed: Latency;
  opened: Latency;
  visible: Latency;
}

interface StormResult {
  chargers: number;
  generators: number;
  booted: number;
  registerSeconds: number;
  connectSeconds: number;
  temporal: TemporalFacts;
  bare: { burst: BareRun; serial: BareRun; steady: BareRun; burstCpu: CpuShares };
  storm: {
    reports: number;
    errors: string[];
    answer: Latency;
    /** First fault sent → every incident visible, ms (null: not all became visible). */
    allVisibleMs: number | null;
    visible: number;
    faultToVisible: Latency;
    watched: Watched;
    /** From the first fault sent: every report answered by the gateway, every outbox event delivered, every incident opened (ms); and how many clears and second faults the relay delivered before the last first fault. */
    timeline: { answered: number | null; firstFaultsRelayed: number | null; allRelayed: number | null; opened: number | null; othersBeforeLastFirst: number };
    /** A probe signalWithStart every second while the storm ran: what the relay's calls cost then. */
    probe: Latency;
    /** The time between one fault event's delivery by the relay and the next one's, while the relay had a backlog (it delivers one at a time). */
    relayGap: Latency;
    stages: Stages;
    cpu: CpuShares;
    verification: Verification;
  };
  /** How long after the storm Concierge and the Temporal server became quiet, before the steady phase began. */
  settled: { ms: number; quiet: boolean };
  steady: {
    faults: number;
    errors: string[];
    answer: Latency;
    faultToVisible: Latency;
    visible: number;
    watched: Watched;
    probe: Latency;
    stages: Stages;
    cpu: CpuShares;
    verification: Verification;
  };
  /** Incident workflow executions the Temporal server holds at the end (expected: one per incident). */
  incidentWorkflows: number;
  /** History events of a steady incident (opened on one fault), a storm incident (opened, cleared, faulted again) and a bare workflow: what each costs the one history shard. */
  historyEvents: { opened: number; storm: number; bare: number };
  /** The machine's 1-minute load average when the run began and when the storm ended: other work on it shows here. */
  loadAverage: { start: number; storm: number };
}

async function measureStorm(options: StormOptions, stopChildren: Set<() => Promise<void>>): Promise<StormResult> {
  const n = options.chargers;
  const timeoutMs = options.timeout * 1000;
  const startLoad = os.loadavg()[0]!;
  installTemporalRuntime();
  log('bundling the bare workflow');
  const workflowBundle = await bundleBareWorkflow();

  const scratch = options.databaseUrl ? await scratchDatabase(options.databaseUrl) : null;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-storm-'));
  const adminToken = `storm-${randomBytes(12).toString('hex')}`;
  const setup: ConciergeServerSetup = { chargerIds: { prefix: ID_PREFIX, first: 1, count: 0 }, password: PASSWORD, databaseUrl: scratch?.url, logLevel: 'warn', dataDir, adminToken };
  const server = new Child<ServerRequest, ServerReply>('./concierge-server.ts', { args: [JSON.stringify(setup)], nodeOptions: options.traceGc ? ['--trace-gc'] : [] });
  const stopServer = () => server.stop({ type: 'stop' });
  stopChildren.add(stopServer);
  const generators: Array<Child<GeneratorRequest, GeneratorReply>> = [];
  let connection: Connection | null = null;
  try {
    const ready = await server.next('ready', 300_000);
    const api: Api = { base: httpBaseOf(ready.url), token: adminToken };
    const address = ready.temporalAddress!;
    const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
    connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace });
    const temporal = await temporalFacts(dataDir, address, connection);
    log(`Concierge at ${api.base}; Temporal at ${address}: ${describeTemporal(temporal)}`);

    const ids = chargerIds(ID_PREFIX, n);
    log(`registering ${n} chargers through the API`);
    const registerBegin = Date.now();
    await registerChargers(api.base, adminToken, ids, PASSWORD, (done) => done % 250 === 0 && log(`registered ${done}`));
    const registerSeconds = (Date.now() - registerBegin) / 1000;

    const generatorCount = Math.max(2, Math.ceil(n / options.perGenerator));
    const share = Math.ceil(n / generatorCount);
    const generatorOf = new Map<string, number>();
    for (let g = 0; g < generatorCount; g++) {
      const child = new Child<GeneratorRequest, GeneratorReply>('./load-generator.ts');
      generators.push(child);
      stopChildren.add(() => child.stop({ type: 'stop' }));
      const first = 1 + g * share;
      const count = Math.min(share, n - g * share);
      for (const id of chargerIds(ID_PREFIX, count, first)) generatorOf.set(id, g);
      // Each handshake checks its charger's own scrypt hash: a modest rate, or they only queue up.
      child.send({ type: 'start', url: ready.url, protocol: '1.6', password: PASSWORD, idPrefix: ID_PREFIX, firstNumber: first, chargers: count, intervalMs: 60_000, sessionsPerHour: 0, faultRatePerHour: 0, connectRatePerSecond: 200 / generatorCount, maxConnecting: 100, connectors: 2 });
    }
    log(`connecting ${n} chargers (2 connectors each) from ${generatorCount} load generators`);
    const started = await Promise.all(generators.map((g) => g.next('started', 120_000 + n * 200)));
    const booted = sum(started.map((s) => s.booted));
    const connectSeconds = Math.max(...started.map((s) => s.elapsedMs)) / 1000;
    log(`${booted} booted in ${connectSeconds.toFixed(1)} s${booted < n ? ` — ${n - booted} did not: ${started.map((s) => s.lastError).filter(Boolean).join('; ')}` : ''}`);
    await sleep(3_000); // the connections' own writes settle

    const writeProfile = async (phase: string) => {
      mkdirSync(options.profile!, { recursive: true });
      const { file } = await server.request({ type: 'profile-end', file: path.resolve(options.profile!, `storm-${phase}-${new Date().toISOString().replace(/[:.]/g, '')}.cpuprofile`) }, 'profiled', 300_000);
      log(`CPU profile of Concierge's main thread over the ${phase}: ${file}`);
    };
    const pids = { temporal: temporal.devServer?.pid ?? null, concierge: server.process.pid ?? null, generators: generators.map((g) => g.process.pid ?? 0) };
    const cpuWindow = () => startCpuWindow(pids);

    log(`bare Temporal: ${n} signalWithStart spread over ${options.spread} ms`);
    const bareTemporal = await startBareTemporal({ address, namespace, client, workflowBundle });
    const burstCpu = cpuWindow();
    const burst = await bareTemporal.burst(n, options.spread, timeoutMs);
    const bareBurstCpu = burstCpu();
    log(`bare burst: ${describeBare(burst)}`);
    log(`bare Temporal: ${n} signalWithStart one at a time`);
    const serial = await bareTemporal.serial(n, timeoutMs);
    log(`bare serial: ${describeBare(serial)}`);
    log(`bare Temporal: ${options.steadyRate} signalWithStart/s for ${options.steadySeconds} s`);
    const bareSteady = await bareTemporal.steady(options.steadyRate, options.steadySeconds, timeoutMs);
    log(`bare steady: ${describeBare(bareSteady)}`);
    await bareTemporal.stop();

    const send = (reports: StatusReport[]) => sendReports(generators, generatorOf, reports);

    // ── the storm ──
    const order = shuffled(ids);
    const offsets = evenly(n, options.spread);
    const stormBegin = Date.now() + 1_500;
    const stormReports: StatusReport[] = order.flatMap((chargerId, i) => {
      const at = stormBegin + offsets[i]!;
      return [
        { chargerId, connectorId: STORM_CONNECTOR, status: 'Faulted', errorCode: 'GroundFailure', at },
        { chargerId, connectorId: STORM_CONNECTOR, status: 'Available', errorCode: 'NoError', at: at + options.flapGap },
        { chargerId, connectorId: STORM_CONNECTOR, status: 'Faulted', errorCode: 'GroundFailure', at: at + 2 * options.flapGap },
      ];
    });
    const stormDue = new Map(stormReports.filter((_, i) => i % 3 === 0).map((r) => [connectorKey(r.chargerId, r.connectorId), r.at]));
    log(`storm: ${n} chargers fault within ${options.spread} ms, clear ${options.flapGap} ms later and fault again`);
    if (options.profile) await server.request({ type: 'profile-start' }, 'profiling');
    const stormCpu = cpuWindow();
    const stormProbe = probeSignalWithStart(client, PROBE_EVERY_MS);
    const stormSent = send(stormReports);
    const stormWatched = await watchIncidents(api, { due: stormDue, limit: options.stormLimit, intervalMs: options.stormPoll, deadline: stormBegin + timeoutMs });
    const stormShares = stormCpu();
    if (options.profile) await writeProfile('storm');
    const stormProbed = await stormProbe.stop();
    const stormLoad = os.loadavg()[0]!;
    const stormResults = await stormSent;
    const firstFaults = stormResults.filter((_, i) => i % 3 === 0);
    const firstSent = Math.min(...firstFaults.map((r) => r.sentAt));
    const stormLatencies = firstFaults.flatMap((r, i) => {
      const seen = stormWatched.firstSeen.get(connectorKey(stormReports[i * 3]!.chargerId, STORM_CONNECTOR));
      return seen === undefined ? [] : [seen - r.sentAt];
    });
    const allVisibleMs = stormWatched.firstSeen.size === n ? Math.max(...stormWatched.firstSeen.values()) - firstSent : null;
    log(`storm: ${stormWatched.firstSeen.size} of ${n} incidents visible${allVisibleMs === null ? '' : ` after ${(allVisibleMs / 1000).toFixed(1)} s (${round(n / (allVisibleMs / 1000))}/s)`}; fault → visible ${describeLatency(latency(stormLatencies))}`);

    log('storm: checking every charger for exactly one incident holding both faults');
    const stormVerification = await verify(api, ids, STORM_CONNECTOR, 2, Date.now() + timeoutMs);
    log(`storm: ${describeVerification(stormVerification)}`);

    // The steady phase measures a steady state: it begins once the storm's remaining work (the
    // clears, second faults, remote fixes and their saves) is done, not while it is worked off.
    const settled = await settle(pids, SETTLE_LIMIT_MS);
    log(`settled: Concierge and the Temporal server quiet after ${(settled.ms / 1000).toFixed(1)} s${settled.quiet ? '' : ` — not quiet within ${SETTLE_LIMIT_MS / 1000} s, the steady phase begins anyway`}`);

    // ── the steady phase ──
    const steadyCount = options.steadyRate * options.steadySeconds;
    const steadyIds = shuffled(ids).slice(0, steadyCount);
    const steadyBegin = Date.now() + 1_000;
    const steadyOffsets = evenly(steadyCount, options.steadySeconds * 1000);
    const steadyReports: StatusReport[] = steadyIds.map((chargerId, i) => ({ chargerId, connectorId: STEADY_CONNECTOR, status: 'Faulted', errorCode: 'GroundFailure', at: steadyBegin + steadyOffsets[i]! }));
    const steadyDue = new Map(steadyReports.map((r) => [connectorKey(r.chargerId, r.connectorId), r.at]));
    log(`steady: ${options.steadyRate} faults/s for ${options.steadySeconds} s on connector ${STEADY_CONNECTOR} of ${steadyCount} chargers`);
    if (options.profile) await server.request({ type: 'profile-start' }, 'profiling');
    const steadyCpu = cpuWindow();
    const steadyProbe = probeSignalWithStart(client, PROBE_EVERY_MS);
    const steadySent = send(steadyReports);
    const steadyWatched = await watchIncidents(api, { due: steadyDue, limit: options.steadyLimit, intervalMs: options.steadyPoll, deadline: steadyBegin + options.steadySeconds * 1000 + timeoutMs });
    const steadyShares = steadyCpu();
    if (options.profile) await writeProfile('steady');
    const steadyProbed = await steadyProbe.stop();
    const steadyResults = await steadySent;
    const steadyLatencies = steadyResults.flatMap((r, i) => {
      const seen = steadyWatched.firstSeen.get(connectorKey(steadyReports[i]!.chargerId, STEADY_CONNECTOR));
      return seen === undefined ? [] : [seen - r.sentAt];
    });
    log(`steady: ${steadyWatched.firstSeen.size} of ${steadyCount} visible; fault → visible ${describeLatency(latency(steadyLatencies))}`);
    const steadyVerification = await verify(api, steadyIds, STEADY_CONNECTOR, 1, Date.now() + timeoutMs);
    log(`steady: ${describeVerification(steadyVerification)}`);

    const incidentWorkflows = (await client.workflow.count('WorkflowType = "incidentWorkflow"')).count;
    const pipeline = await server.request({ type: 'pipeline', sinceMs: stormBegin - 5_000 }, 'pipeline', 120_000);
    const errorsOf = (results: StatusReportResult[]) => [...new Set(results.flatMap((r) => (r.error ? [r.error.replace(/^STORM-\d+: /, '')] : [])))];
    const answered = (results: StatusReportResult[]) => latency(results.flatMap((r) => (r.answeredAt === null ? [] : [r.answeredAt - r.sentAt])));

    return {
      chargers: n,
      generators: generatorCount,
      booted,
      registerSeconds,
      connectSeconds,
      temporal,
      bare: { burst, serial, steady: bareSteady, burstCpu: bareBurstCpu },
      storm: {
        reports: stormReports.length,
        errors: errorsOf(stormResults),
        answer: answered(stormResults),
        allVisibleMs,
        visible: stormWatched.firstSeen.size,
        faultToVisible: latency(stormLatencies),
        watched: stormWatched,
        timeline: stormTimeline(pipeline, stormReports, stormResults, firstSent),
        relayGap: relayGaps(pipeline, stormReports, firstSent),
        probe: stormProbed.latency,
        stages: stagesOf(pipeline, stormReports.filter((_, i) => i % 3 === 0), firstFaults, stormWatched),
        cpu: stormShares,
        verification: stormVerification,
      },
      settled,
      steady: {
        faults: steadyCount,
        errors: errorsOf(steadyResults),
        answer: answered(steadyResults),
        faultToVisible: latency(steadyLatencies),
        visible: steadyWatched.firstSeen.size,
        watched: steadyWatched,
        probe: steadyProbed.latency,
        stages: stagesOf(pipeline, steadyReports, steadyResults, steadyWatched),
        cpu: steadyShares,
        verification: steadyVerification,
      },
      incidentWorkflows,
      loadAverage: { start: startLoad, storm: stormLoad },
      historyEvents: {
        opened: await historyLength(client, `incident:${steadyIds[0]!}:${STEADY_CONNECTOR}`),
        storm: await historyLength(client, `incident:${order[0]!}:${STORM_CONNECTOR}`),
        bare: await historyLength(client, burst.sampleWorkflowId),
      },
    };
  } finally {
    log('stopping the load generators and Concierge');
    await connection?.close().catch(() => undefined);
    await Promise.all(generators.map((g) => g.stop({ type: 'stop' })));
    await stopServer();
    stopChildren.clear();
    stopLeftoverTemporal(dataDir, log);
    rmSync(dataDir, { recursive: true, force: true });
    await scratch?.drop();
  }
}

/** The Temporal SDK's own logs, warnings and up, on stderr (the bare worker runs in this process). */
function installTemporalRuntime() {
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } } });
}

/** The dev server as Concierge started it: its command line says which SQLite file and pragmas. */
async function temporalFacts(dataDir: string, address: string, connection: Connection): Promise<TemporalFacts> {
  const { historyShardCount } = await connection.workflowService.getClusterInfo({});
  const pid = devServerPid(dataDir);
  if (pid === null) return { address, devServer: null, historyShards: historyShardCount };
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const valuesOf = (flag: string) => args.flatMap((arg, i) => (arg === flag && args[i + 1] ? [args[i + 1]!] : []));
  const dbFile = valuesOf('--db-filename')[0] ?? null;
  let version = 'unknown';
  try {
    version = execFileSync(findTemporalCli(process.env.TEMPORAL_CLI || undefined), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // the version is for the record only
  }
  return { address, devServer: { pid, version, dbFile, pragmas: valuesOf('--sqlite-pragma'), walFile: dbFile !== null && existsSync(`${dbFile}-wal`) }, historyShards: historyShardCount };
}

function describeTemporal(t: TemporalFacts): string {
  const shards = `${t.historyShards} history shard${t.historyShards === 1 ? '' : 's'}`;
  if (!t.devServer) return `an existing server (TEMPORAL_ADDRESS), ${shards}`;
  const { version, dbFile, pragmas, walFile } = t.devServer;
  const storage = dbFile ? `SQLite file persistence, pragmas ${pragmas.join(', ') || 'none (SQLite defaults)'}${walFile ? ' (its -wal file is there)' : ''}` : 'in memory';
  return `the dev server Concierge started (\`temporal server start-dev\`, ${version}), ${storage}, ${shards}`;
}

/** Sends each generator its chargers' reports; the results come back in the order of `reports`. */
async function sendReports(generators: Array<Child<GeneratorRequest, GeneratorReply>>, generatorOf: Map<string, number>, reports: StatusReport[]): Promise<StatusReportResult[]> {
  const indexes = generators.map(() => [] as number[]);
  reports.forEach((report, i) => indexes[generatorOf.get(report.chargerId)!]!.push(i));
  const results: StatusReportResult[] = new Array(reports.length);
  const lastAt = Math.max(...reports.map((r) => r.at));
  await Promise.all(
    generators.map(async (generator, g) => {
      const mine = indexes[g]!;
      const reply = await generator.request({ type: 'report-statuses', reports: mine.map((i) => reports[i]!) }, 'statuses-reported', lastAt - Date.now() + 300_000);
      reply.results.forEach((result, k) => (results[mine[k]!] = result));
    }),
  );
  return results;
}

/**
 * Asks for every charger's incidents until each connector has exactly one holding `faults` faults
 * (or the deadline passes): a missing or second incident is final, a fault still on its way is not.
 */
async function verify(api: Api, ids: string[], connectorId: number, faults: number, deadline: number): Promise<Verification> {
  const found = new Map<string, IncidentView[]>();
  let pending = ids;
  for (;;) {
    for (const [chargerId, incidents] of await incidentsByCharger(api, pending)) found.set(chargerId, incidents.filter((i) => i.connectorId === connectorId));
    pending = ids.filter((id) => found.get(id)!.length === 1 && found.get(id)![0]!.faults.length < faults);
    if (pending.length === 0 || Date.now() > deadline) break;
    await sleep(1_000);
  }
  const faultCounts: Record<number, number> = {};
  const examples: string[] = [];
  let missing = 0;
  let duplicated = 0;
  let complete = 0;
  for (const id of ids) {
    const incidents = found.get(id)!;
    if (incidents.length === 0) missing++;
    if (incidents.length > 1) duplicated++;
    if (incidents.length !== 1 && examples.length < 5) examples.push(`${id}: ${incidents.length} incidents on connector ${connectorId}`);
    if (incidents.length === 1) {
      const count = incidents[0]!.faults.length;
      faultCounts[count] = (faultCounts[count] ?? 0) + 1;
      if (count === faults) complete++;
      else if (examples.length < 5) examples.push(`${id}: ${count} faults on its incident`);
    }
  }
  return { chargers: ids.length, missing, duplicated, complete, faultCounts, examples };
}

/** When, after the first fault was sent, the storm's reports were all answered, relayed to Temporal, and its incidents all opened. */
function stormTimeline(pipeline: Pipeline, reports: StatusReport[], results: StatusReportResult[], firstSent: number): StormResult['storm']['timeline'] {
  const chargers = new Set(reports.map((r) => r.chargerId));
  const events = pipeline.events.filter((e) => e.connectorId === STORM_CONNECTOR && chargers.has(e.chargerId) && e.storedAt >= firstSent - 1_000);
  const firstFaultOf = firstEvents(events.filter((e) => e.kind === 'fault'));
  const latest = (values: Array<number | null>) => (values.length === 0 || values.some((v) => v === null) ? null : Math.max(...(values as number[])) - firstSent);
  const opened = pipeline.incidents.filter((i) => i.connectorId === STORM_CONNECTOR && chargers.has(i.chargerId));
  const firsts = new Set(firstFaultOf.values());
  const lastFirst = Math.max(...[...firsts].map((e) => e.deliveredAt ?? Infinity));
  return {
    othersBeforeLastFirst: events.filter((e) => !firsts.has(e) && e.deliveredAt !== null && e.deliveredAt <= lastFirst).length,
    answered: latest(results.map((r) => r.answeredAt)),
    firstFaultsRelayed: firstFaultOf.size === chargers.size ? latest([...firstFaultOf.values()].map((e) => e.deliveredAt)) : null,
    allRelayed: events.length >= reports.length ? latest(events.map((e) => e.deliveredAt)) : null,
    opened: opened.length >= chargers.size ? latest(opened.map((i) => i.openedAt)) : null,
  };
}

/** The gaps between consecutive deliveries of the storm's fault events, while more were waiting. */
function relayGaps(pipeline: Pipeline, reports: StatusReport[], firstSent: number): Latency {
  const chargers = new Set(reports.map((r) => r.chargerId));
  const faults = pipeline.events.filter((e) => e.kind === 'fault' && e.connectorId === STORM_CONNECTOR && chargers.has(e.chargerId) && e.storedAt >= firstSent - 1_000);
  const delivered = faults.flatMap((e) => (e.deliveredAt === null ? [] : [e.deliveredAt])).sort((a, b) => a - b);
  const lastStored = Math.max(...faults.map((e) => e.storedAt));
  // Until the last one was stored the relay may have caught up and waited: count only gaps after it.
  const gaps = delivered.slice(1).flatMap((at, i) => (delivered[i]! >= lastStored ? [at - delivered[i]!] : []));
  return latency(gaps);
}

async function historyLength(client: Client, workflowId: string): Promise<number> {
  try {
    return (await client.workflow.getHandle(workflowId).fetchHistory()).events?.length ?? 0;
  } catch {
    return NaN;
  }
}

/** Each connector's first fault event (by the time it was stored). */
function firstEvents(events: Pipeline['events']): Map<string, Pipeline['events'][number]> {
  const first = new Map<string, Pipeline['events'][number]>();
  for (const e of events) {
    const key = connectorKey(e.chargerId, e.connectorId);
    if (!first.has(key) || first.get(key)!.storedAt > e.storedAt) first.set(key, e);
  }
  return first;
}

/** Where the time from each fault to its incident in the API went, by Concierge's own records. */
function stagesOf(pipeline: Pipeline, faults: StatusReport[], results: StatusReportResult[], watched: Watched): Stages {
  const earliest = Math.min(...results.map((r) => r.sentAt)) - 1_000;
  const stored = firstEvents(pipeline.events.filter((e) => e.kind === 'fault' && e.storedAt >= earliest));
  const opened = new Map<string, number>();
  for (const i of pipeline.incidents) {
    const key = connectorKey(i.chargerId, i.connectorId);
    opened.set(key, Math.min(opened.get(key) ?? Infinity, i.openedAt));
  }
  const spans = { stored: [] as number[], relayed: [] as number[], opened: [] as number[], visible: [] as number[] };
  faults.forEach((fault, i) => {
    const key = connectorKey(fault.chargerId, fault.connectorId);
    const event = stored.get(key);
    const openedAt = opened.get(key);
    const seen = watched.firstSeen.get(key);
    if (!event) return;
    spans.stored.push(event.storedAt - results[i]!.sentAt);
    if (event.deliveredAt === null) return;
    spans.relayed.push(event.deliveredAt - event.storedAt);
    if (openedAt === undefined) return;
    spans.opened.push(openedAt - event.deliveredAt);
    if (seen !== undefined) spans.visible.push(seen - openedAt);
  });
  return { stored: latency(spans.stored), relayed: latency(spans.relayed), opened: latency(spans.opened), visible: latency(spans.visible) };
}

function startCpuWindow(pids: { temporal: number | null; concierge: number | null; generators: number[] }): () => CpuShares {
  const read = () => ({
    at: Date.now(),
    temporal: pids.temporal === null ? null : processCpuMs(pids.temporal),
    concierge: pids.concierge === null ? null : processCpuMs(pids.concierge),
    generators: pids.generators.map(processCpuMs).reduce<number | null>((a, b) => (a === null || b === null ? null : a + b), 0),
    bench: processCpuMs(process.pid),
    machine: machineCpuMs(),
  });
  const before = read();
  return () => {
    const after = read();
    const wallMs = after.at - before.at;
    const share = (a: number | null, b: number | null) => (a === null || b === null ? null : ((b - a) / wallMs) * 100);
    const machineShare =
      before.machine && after.machine
        ? ((after.machine.busyMs - before.machine.busyMs) / (after.machine.busyMs - before.machine.busyMs + after.machine.idleMs - before.machine.idleMs)) * 100 * os.cpus().length
        : null;
    return {
      wallMs,
      temporal: share(before.temporal, after.temporal),
      concierge: share(before.concierge, after.concierge),
      generators: share(before.generators, after.generators),
      bench: share(before.bench, after.bench),
      machineBusy: machineShare,
      cores: os.cpus().length,
    };
  };
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const seconds = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
const ms = (value: number) => (Number.isFinite(value) ? `${int(value)} ms` : '—');
const describeLatency = (l: Latency) => (l.count === 0 ? '—' : `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`);
const describeBare = (b: BareRun) =>
  `${b.perSecond === null ? 'not all ran' : `${round(b.perSecond)} workflows/s (all ran after ${seconds(b.allRanMs)})`}; call ${describeLatency(b.callLatency)}; call → ran ${describeLatency(b.ranLatency)}${b.errors ? `; ${b.errors} errors (${b.lastError})` : ''}`;
const describeVerification = (v: Verification) =>
  `${v.chargers - v.missing - v.duplicated} of ${v.chargers} connectors with exactly one incident, ${v.missing} missing, ${v.duplicated} duplicated; ${v.complete} hold every fault; faults per incident ${JSON.stringify(v.faultCounts)}${v.examples.length ? `; e.g. ${v.examples.join('; ')}` : ''}`;

function formatReport(options: StormOptions, r: StormResult): string {
  const database = options.databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)';
  // Targets are judged on full runs only.
  const judged = r.chargers >= 1000 && options.steadySeconds >= 60;
  const verdict = (ok: boolean) => (judged ? (ok ? ' ✅' : ' ❌') : '');
  const { storm, steady, bare } = r;
  const stormRate = storm.allVisibleMs === null ? null : r.chargers / (storm.allVisibleMs / 1000);
  const ratio = stormRate !== null && bare.burst.perSecond !== null ? stormRate / bare.burst.perSecond : null;
  const serialRatio = stormRate !== null && bare.serial.perSecond !== null ? stormRate / bare.serial.perSecond : null;
  const exactlyOnce = (v: Verification) => v.missing === 0 && v.duplicated === 0 && v.complete === v.chargers;
  const onceCell = (v: Verification, faults: string) =>
    `${int(v.chargers - v.missing - v.duplicated)} of ${int(v.chargers)} with exactly one incident: ${v.missing} missing, ${v.duplicated} duplicated; ${int(v.complete)} hold ${faults}${verdict(exactlyOnce(v))}`;
  const latencyCell = (l: Latency) => (l.count === 0 ? '—' : `${ms(l.p50)} / ${ms(l.p99)} / ${ms(l.max)}`);
  const bareCell = (b: BareRun) => `${b.perSecond === null ? 'not all ran' : `${round(b.perSecond)}/s`} (every workflow ran after ${seconds(b.allRanMs)}; completed by the server's count after ${seconds(b.allCompletedMs)})${b.errors ? `, ${b.errors} errors` : ''}`;
  const share = (v: number | null) => (v === null ? '—' : `${Math.round(v)} %`);
  const rest = (c: CpuShares) => (c.machineBusy === null ? null : Math.max(0, c.machineBusy - sum([c.temporal, c.concierge, c.generators, c.bench].map((v) => v ?? 0))));
  const cpuRow = (phase: string, c: CpuShares) =>
    `| ${phase} (${seconds(c.wallMs)}) | ${share(c.temporal)} | ${share(c.concierge)} | ${share(c.generators)} | ${share(c.bench)} | ${share(rest(c))} | ${share(c.machineBusy)} of ${c.cores * 100} % |`;
  const perWorkflow = (c: CpuShares, count: number) => (c.temporal === null ? '—' : `${round((c.temporal / 100) * c.wallMs / count)} ms`);
  const stageRow = (what: string, s: Latency, t: Latency) => `| ${what} | ${latencyCell(s)} | ${latencyCell(t)} |`;
  const lines = [
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — fault storm: ${int(r.chargers)} OCPP 1.6 chargers on ${database}`,
    '',
    `Concierge at commit ${commit()}. Machine: ${machine()}; load average ${r.loadAverage.start.toFixed(1)} when the run began, ${r.loadAverage.storm.toFixed(1)} after the storm. Temporal: ${describeTemporal(r.temporal)}. ` +
      `${int(r.booted)} of ${int(r.chargers)} chargers registered through the API (${seconds(r.registerSeconds * 1000)}) and connected from ${r.generators} load-generator processes on the same machine (${seconds(r.connectSeconds * 1000)}), 2 connectors each. ` +
      `Storm: each charger reports Faulted (GroundFailure) on connector ${STORM_CONNECTOR} at its moment of a ${int(options.spread)} ms spread, Available ${int(options.flapGap)} ms later and Faulted again ${int(options.flapGap)} ms after that; the API was polled every ${options.stormPoll} ms (limit ${options.stormLimit}). ` +
      `Steady: ${options.steadyRate} faults/s for ${options.steadySeconds} s, each on connector ${STEADY_CONNECTOR} of a charger of its own, begun once Concierge and the Temporal server were quiet after the storm (${seconds(r.settled.ms)}${r.settled.quiet ? '' : ', and they were not: the limit passed'}); polled every ${options.steadyPoll} ms (limit ${options.steadyLimit}). ` +
      `Bare: the same number of \`signalWithStart\` calls of a trivial workflow (bench/storm-workflow.ts) at the same rates, worker in the benchmark process, before the storm.`,
    '',
    '| measure | target | Concierge | bare Temporal, same server and run |',
    '| --- | --- | --- | --- |',
    `| storm: incidents, one per connector, each holding both faults | all ${int(r.chargers)}, none lost, none duplicated | ${onceCell(storm.verification, 'both faults')}; ${int(r.incidentWorkflows)} incident workflow executions on the server (expected ${int(r.chargers + steady.faults)}) | — |`,
    `| storm throughput: first fault sent → every incident visible in the API | ≥ 90 % of bare | ${stormRate === null ? `${int(storm.visible)} of ${int(r.chargers)} visible ❌` : `${round(stormRate)}/s (${seconds(storm.allVisibleMs)})${ratio === null ? '' : ` = ${Math.round(ratio * 100)} % of bare${verdict(ratio >= 0.9)}`}`} | ${int(r.chargers)} calls spread over ${int(options.spread)} ms: ${bareCell(bare.burst)} |`,
    `| storm: fault → visible (Concierge), call → ran (bare): p50 / p99 / max | — | ${latencyCell(storm.faultToVisible)} | ${latencyCell(bare.burst.ranLatency)} |`,
    `| steady ${options.steadyRate} faults/s: fault → visible (Concierge), call → ran (bare): p50 / p99 / max | p99 < 1 s | ${latencyCell(steady.faultToVisible)}${verdict(steady.faultToVisible.count === steady.faults && steady.faultToVisible.p99 < 1000)} | ${latencyCell(bare.steady.ranLatency)} |`,
    `| steady: incidents, one per connector | all ${int(steady.faults)} | ${onceCell(steady.verification, 'their fault')} | — |`,
    `| for reference: one call at a time, as the outbox relay delivers | — | storm throughput ${serialRatio === null ? '—' : `= ${Math.round(serialRatio * 100)} % of this`} | ${bareCell(bare.serial)} |`,
    `| signalWithStart round trip, p50 / p99 / max (bare: burst; serial; steady) | — | — | ${latencyCell(bare.burst.callLatency)}; ${latencyCell(bare.serial.callLatency)}; ${latencyCell(bare.steady.callLatency)} |`,
    `| the gateway's answer to a status report, p50 / p99 / max (storm; steady) | — | ${latencyCell(storm.answer)}; ${latencyCell(steady.answer)} | — |`,
    `| a probe signalWithStart once a second while Concierge works (a new workflow no worker runs), p50 / p99 / max (storm; steady) | — | — | ${latencyCell(storm.probe)}; ${latencyCell(steady.probe)} |`,
    '',
    'Where the time went, by Concierge\'s own records (the outbox rows and the incidents table) for each fault that opened an incident, p50 / p99 / max:',
    '',
    `| stage | storm (first faults) | steady |`,
    '| --- | --- | --- |',
    stageRow('sent → stored with its outbox event by the gateway', storm.stages.stored, steady.stages.stored),
    stageRow('stored → delivered by the outbox relay (signalWithStart returned)', storm.stages.relayed, steady.stages.relayed),
    stageRow('delivered → incident opened by the workflow (its first task)', storm.stages.opened, steady.stages.opened),
    stageRow('opened → seen in the API (projection saved by an activity, then the next poll)', storm.stages.visible, steady.stages.visible),
    '',
    `Storm timeline from the first fault sent: every report answered by the gateway after ${seconds(storm.timeline.answered)}; every first fault delivered by the relay after ${seconds(storm.timeline.firstFaultsRelayed)} (with ${int(storm.timeline.othersBeforeLastFirst)} of the clears and second faults delivered before the last of them), all ${int(storm.reports)} reports after ${seconds(storm.timeline.allRelayed)}; every incident opened after ${seconds(storm.timeline.opened)}, visible after ${seconds(storm.allVisibleMs)}. ` +
      `While it had a backlog the relay delivered a fault event every ${latencyCell(storm.relayGap)} (p50 / p99 / max of the gaps, which hold the Available reports and second faults relayed in between; bare serial signalWithStart: ${latencyCell(bare.serial.callLatency)}). ` +
      `History events (the one shard writes each): an incident opened on one fault ${r.historyEvents.opened}, one after the storm (opened, cleared, faulted again) ${r.historyEvents.storm}, a bare workflow ${r.historyEvents.bare}. ` +
      `API polls: storm ${int(storm.watched.polls)} (${latencyCell(storm.watched.pollLatency)} each), steady ${int(steady.watched.polls)} (${latencyCell(steady.watched.pollLatency)}); incidents found per charger because a page could not show them: ${storm.watched.lookedUp} and ${steady.watched.lookedUp}.`,
    '',
    'CPU over each phase, % of one core:',
    '',
    '| phase | Temporal dev server | Concierge | load generators | benchmark process (bare worker and client; API polls) | rest of the machine (other work, kernel) | whole machine busy |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    cpuRow('bare burst', bare.burstCpu),
    cpuRow('storm, until every incident was visible', storm.cpu),
    cpuRow('steady', steady.cpu),
    '',
    `The Temporal dev server's CPU per workflow: ${perWorkflow(bare.burstCpu, r.chargers)} per bare workflow in the burst, ${perWorkflow(storm.cpu, r.chargers)} per incident in the storm (its window also holds the clears and second faults relayed in it).`,
  ];
  const errors = [...storm.errors.map((e) => `storm: ${e}`), ...steady.errors.map((e) => `steady: ${e}`), ...[bare.burst, bare.serial, bare.steady].flatMap((b) => (b.lastError ? [`bare: ${b.lastError}`] : []))];
  if (errors.length) lines.push('', `Errors: ${errors.slice(0, 5).map((e) => `\`${e}\``).join('; ')}`);
  const examples = [...storm.verification.examples, ...steady.verification.examples];
  if (examples.length) lines.push('', `Connectors not as expected (first few): ${examples.join('; ')}`);
  return lines.join('\n') + '\n';
}

const SETTLE_LIMIT_MS = 180_000;
/** Quiet: each of Concierge and the Temporal server below this share of one core, for three seconds running. */
const QUIET_SHARE = 0.15;

/** Waits until Concierge and the Temporal server are quiet (or the limit passes): how long it took. */
async function settle(pids: { temporal: number | null; concierge: number | null }, limitMs: number): Promise<{ ms: number; quiet: boolean }> {
  const begin = Date.now();
  const watched = [pids.temporal, pids.concierge].filter((pid): pid is number => pid !== null);
  let quietSeconds = 0;
  let last = watched.map((pid) => processCpuMs(pid) ?? 0);
  while (Date.now() - begin < limitMs) {
    await sleep(1_000);
    const now = watched.map((pid) => processCpuMs(pid) ?? 0);
    const busiest = Math.max(...now.map((ms, i) => (ms - last[i]!) / 1_000));
    last = now;
    quietSeconds = busiest < QUIET_SHARE ? quietSeconds + 1 : 0;
    if (quietSeconds >= 3) return { ms: Date.now() - begin, quiet: true };
  }
  return { ms: Date.now() - begin, quiet: false };
}
