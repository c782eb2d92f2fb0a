import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { SIMULATED_PROTOCOLS, type SimulatedProtocol } from '../simulator/index.js';
import type { BareServerSetup } from './bare-server.js';
import type { ConciergeServerSetup } from './concierge-server.js';
import { commit, int, latency, logTo, machine, positiveInteger, scratchDatabase, stopLeftoverTemporal, stopsOnInterrupt, sum, zeroOrMore, µs, type Latency } from './harness.js';
import { Child, machineCpuMs, type GeneratorReply, type GeneratorRequest, type GeneratorSetup, type MeasuredAction, type ServerReply, type ServerRequest, type ServerStats } from './ipc.js';

/**
 * The gateway benchmark: simulated chargers in load-generator processes against one server
 * process — first a bare ocpp-rpc server (the yardstick), then the same server storing each meter
 * value before it answers (the storage floor), then Concierge — measuring connections held, heap
 * per idle charger, saturated throughput and response times at a steady rate.
 * `npm run bench -- --help` for the options; results are appended to docs/benchmarks.md.
 *
 * `npm run bench -- storm [options]` runs the fault storm instead (bench/storm.ts), and
 * `npm run bench -- settlement [options]` the settlement benchmark (bench/settlement.ts), and
 * `npm run bench -- console [options]` the console's board and live stream (bench/console.ts).
 */
if (process.argv[2] === 'settlement') {
  const { runSettlementBench } = await import('./settlement.js');
  process.exit(await runSettlementBench(process.argv.slice(3)));
}
if (process.argv[2] === 'console') {
  const { runConsoleBench } = await import('./console.js');
  process.exit(await runConsoleBench(process.argv.slice(3)));
}
if (process.argv[2] === 'storm') {
  const { runStorm } = await import('./storm.js');
  process.exit(await runStorm(process.argv.slice(3)));
}

const SERVER_KINDS = ['bare', 'stored', 'concierge'] as const;
type ServerKind = (typeof SERVER_KINDS)[number];
const SERVER_NAMES: Record<ServerKind, string> = { bare: 'bare ocpp-rpc server', stored: 'ocpp-rpc + storage only (the storage floor)', concierge: 'Concierge' };

interface BenchOptions {
  chargers?: number;
  quick?: boolean;
  protocol: SimulatedProtocol;
  databaseUrl?: string;
  message: MeasuredAction;
  inFlight: number;
  steadyRate: number;
  perGenerator: number;
  faultRate: number;
  sessionsPerHour: number;
  only?: ServerKind;
  profile?: string;
  serverNodeOptions?: string;
  out: string;
  write: boolean;
}

interface Phases {
  holdMs: number;
  warmupMs: number;
  saturateMs: number;
  steadyMs: number;
}

interface ServerResult {
  kind: ServerKind;
  chargers: number;
  connectSeconds: number;
  connectFailures: number;
  /** Chargers the server itself counted as connected after the hold phase, and at the very end. */
  heldAfterHold: number;
  heldAtEnd: number;
  heapPerChargerKB: number;
  rssPerChargerKB: number;
  hold: { ratePerSecond: number; latency: Latency; errors: number; generatorDelayMs: number; serverDelay: ServerStats['loopDelay'] };
  saturated: { perSecond: number; errors: number; serverCpuPercent: number; mainThreadPercent: number; cpuPerMessageUs: number; cpuBudget: CpuBudget | null };
  steady: { ratePerSecond: number; latency: Latency; errors: number; generatorDelayMs: number; serverDelay: ServerStats['loopDelay'] };
  lastErrors: string[];
}

/** Where the machine's CPU went per answered message while saturated, in µs. */
interface CpuBudget {
  serverMainThread: number;
  /** The database thread (PGlite), GC helpers and libuv's pool. */
  serverOtherThreads: number;
  loadGenerators: number;
  /** PostgreSQL, the Temporal dev server, the kernel's work outside these processes. */
  restOfMachine: number;
  machineIdlePercent: number;
}

const PASSWORD = 'benchmark-charger-secret';
const ID_PREFIX = 'BENCH-';

const program = new Command('bench')
  .description('Simulated chargers against one Concierge gateway process and against a bare ocpp-rpc server')
  .option('--chargers <n>', 'simulated chargers (default 10000; 1000 with --quick)', positiveInteger)
  .option('--quick', 'a smoke run: 1,000 chargers and short phases')
  .addOption(new Option('--protocol <version>', 'OCPP version of the simulated chargers').choices(SIMULATED_PROTOCOLS).default('1.6'))
  .option('--database-url <url>', 'run Concierge and the storage floor on PostgreSQL: a scratch database is created through this URL and dropped afterwards (default: embedded PGlite)')
  .addOption(new Option('--message <action>', 'the message measured for throughput and response time').choices(['MeterValues', 'Heartbeat']).default('MeterValues'))
  .option('--in-flight <n>', 'chargers sending back to back in the saturation phase', positiveInteger, 1000)
  .option('--steady-rate <n>', 'messages per second in the response-time phase', positiveInteger, 1000)
  .option('--per-generator <n>', 'chargers per load-generator process (a process may hold about 19,900 sockets)', positiveInteger, 5000)
  .option('--fault-rate <per-hour>', 'faults per charger per hour during the hold phase (each opens an incident in Concierge)', zeroOrMore, 0)
  .option('--sessions-per-hour <n>', 'charging sessions per charger per hour during the hold phase (status changes)', zeroOrMore, 6)
  .addOption(new Option('--only <server>', 'measure one server only').choices([...SERVER_KINDS]))
  .option('--profile <dir>', "write a V8 CPU profile (.cpuprofile) of each server's main thread over the hold, saturate and steady phases into this folder")
  .option('--server-node-options <flags>', 'extra Node.js flags for the server processes, e.g. "--trace-gc" (space-separated)')
  .option('--out <file>', 'the Markdown file results are appended to', 'docs/benchmarks.md')
  .option('--no-write', 'print the results only')
  .parse();

const options = program.opts<BenchOptions>();
const chargers = options.chargers ?? (options.quick ? 1000 : 10_000);
const phases: Phases = options.quick ? { holdMs: 15_000, warmupMs: 3_000, saturateMs: 8_000, steadyMs: 10_000 } : { holdMs: 60_000, warmupMs: 5_000, saturateMs: 20_000, steadyMs: 30_000 };
// At least two generators: one process alone cannot keep a server busy (each client checks its calls against the schemas too).
const generatorCount = Math.max(2, Math.ceil(chargers / options.perGenerator));
const children = stopsOnInterrupt('benchmark');

const log = logTo('bench');

const results: ServerResult[] = [];
const kinds: ServerKind[] = options.only ? [options.only] : [...SERVER_KINDS];
log(`${chargers} OCPP ${options.protocol} chargers in ${generatorCount} load-generator process(es); measured message ${options.message}; ${options.quick ? 'quick phases' : 'full phases'}`);
try {
  for (const kind of kinds) results.push(await measure(kind));
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const report = formatReport(results);
console.log(report);
if (options.write) {
  if (!existsSync(options.out)) writeFileSync(options.out, '# Benchmarks\n\nRuns of `npm run bench` (bench/gateway.ts), newest last; docs/benchmarks.md in the repository says how it measures.\n');
  appendFileSync(options.out, `\n${report}`);
  log(`appended to ${options.out}`);
}
process.exit(0);

async function measure(kind: ServerKind): Promise<ServerResult> {
  log(`── ${SERVER_NAMES[kind]} ──`);
  const scratch = kind !== 'bare' && options.databaseUrl ? await scratchDatabase(options.databaseUrl) : null;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-bench-'));
  const setup: ConciergeServerSetup | BareServerSetup =
    kind === 'concierge'
      ? { chargerIds: { prefix: ID_PREFIX, first: 1, count: chargers }, password: PASSWORD, databaseUrl: scratch?.url, logLevel: 'warn', dataDir }
      : { store: kind === 'stored' ? { databaseUrl: scratch?.url, dataDir } : undefined };
  const server = new Child<ServerRequest, ServerReply>(kind === 'concierge' ? './concierge-server.ts' : './bare-server.ts', {
    exposeGc: true,
    args: [JSON.stringify(setup)],
    nodeOptions: options.serverNodeOptions?.split(/\s+/).filter(Boolean) ?? [],
  });
  const serverHandle = { stop: () => server.stop({ type: 'stop' }) };
  children.add(serverHandle.stop);
  const generators: Array<Child<GeneratorRequest, GeneratorReply>> = [];
  try {
    const { url } = await server.next('ready', 300_000);
    log(`server ready at ${url}`);
    await sleep(2_000);
    const baseline = await server.request({ type: 'heap' }, 'heap');

    const share = Math.ceil(chargers / generatorCount);
    for (let g = 0; g < generatorCount; g++) {
      const child = new Child<GeneratorRequest, GeneratorReply>('./load-generator.ts');
      generators.push(child);
      children.add(() => child.stop({ type: 'stop' }));
      const first = 1 + g * share;
      const count = Math.min(share, chargers - g * share);
      const start: GeneratorSetup = {
        url,
        protocol: options.protocol,
        password: PASSWORD,
        idPrefix: ID_PREFIX,
        firstNumber: first,
        chargers: count,
        intervalMs: 10_000,
        sessionsPerHour: options.sessionsPerHour,
        faultRatePerHour: options.faultRate,
        connectRatePerSecond: 2_000 / generatorCount,
        maxConnecting: 500,
      };
      child.send({ type: 'start', ...start });
    }
    const all = <T>(run: (child: Child<GeneratorRequest, GeneratorReply>) => Promise<T>) => Promise.all(generators.map(run));

    log(`connecting ${chargers} chargers`);
    const started = await all((g) => g.next('started', 120_000 + chargers * 100));
    const connectSeconds = Math.max(...started.map((s) => s.elapsedMs)) / 1000;
    const booted = sum(started.map((s) => s.booted));
    log(`${booted} booted in ${connectSeconds.toFixed(1)} s (${sum(started.map((s) => s.connectFailures))} refused)`);

    log(`hold: periodic traffic (heartbeat and meter values every 10 s, sessions) for ${phases.holdMs / 1000} s`);
    await server.request({ type: 'stats' }, 'stats'); // starts the server's event-loop delay measurement afresh
    if (options.profile) await server.request({ type: 'profile-start' }, 'profiling');
    const held = await all((g) => g.request({ type: 'hold', durationMs: phases.holdMs }, 'held', phases.holdMs + 120_000));
    const afterHold = await server.request({ type: 'stats' }, 'stats');
    const holdLatency = latency(held.flatMap((h) => h.latenciesMs));
    log(`hold: ${afterHold.connected} connected by the server's count; p50 ${holdLatency.p50} ms, p99 ${holdLatency.p99} ms; ${sum(held.map((h) => h.errors))} errors`);

    await sleep(5_000); // writes queued by the hold phase drain
    const idle = await server.request({ type: 'heap' }, 'heap');
    const heapPerChargerKB = (idle.heapUsed - baseline.heapUsed) / booted / 1024;
    log(`idle heap: ${(idle.heapUsed / 2 ** 20).toFixed(1)} MB (baseline ${(baseline.heapUsed / 2 ** 20).toFixed(1)} MB) = ${heapPerChargerKB.toFixed(1)} KB per charger`);

    log(`saturate: ${options.inFlight} chargers send ${options.message} back to back for ${phases.saturateMs / 1000} s`);
    const before = await server.request({ type: 'stats' }, 'stats');
    const machineBefore = machineCpuMs();
    const saturate = { type: 'saturate', action: options.message, inFlight: Math.ceil(options.inFlight / generatorCount), warmupMs: phases.warmupMs, durationMs: phases.saturateMs } as const;
    const saturated = await all((g) => g.request(saturate, 'saturated', phases.warmupMs + phases.saturateMs + 120_000));
    const machineAfter = machineCpuMs();
    const after = await server.request({ type: 'stats' }, 'stats');
    const perSecond = sum(saturated.map((s) => s.answered)) / (phases.saturateMs / 1000);
    const windowMs = phases.warmupMs + phases.saturateMs;
    const serverCpuPercent = ((after.cpuMs - before.cpuMs) / windowMs) * 100;
    const mainThreadPercent = ((after.mainThreadBusyMs - before.mainThreadBusyMs) / windowMs) * 100;
    // The CPU window includes the warm-up, which runs at the same rate.
    const messages = perSecond * (windowMs / 1000);
    // Nothing answered (every call failed): no per-message figure.
    const usPerMessage = (ms: number) => (messages > 0 ? (ms * 1000) / messages : NaN);
    const cpuPerMessageUs = usPerMessage(after.cpuMs - before.cpuMs);
    const cpuBudget = messages === 0 ? null : cpuBudgetOf(
      usPerMessage,
      after.cpuMs - before.cpuMs,
      after.mainThreadCpuMs === null || before.mainThreadCpuMs === null ? null : after.mainThreadCpuMs - before.mainThreadCpuMs,
      sum(saturated.map((s) => s.cpuMs)),
      machineBefore && machineAfter ? { busyMs: machineAfter.busyMs - machineBefore.busyMs, idleMs: machineAfter.idleMs - machineBefore.idleMs } : null,
    );
    log(
      `saturate: ${Math.round(perSecond)} ${options.message}/s, ${sum(saturated.map((s) => s.errors))} errors, server CPU ${Math.round(serverCpuPercent)} % ` +
        `(main thread's event loop busy ${Math.round(mainThreadPercent)} % of the time), ${µs(cpuPerMessageUs)} of CPU per message`,
    );
    if (cpuBudget) log(`saturate: machine CPU per message ${formatBudget(cpuBudget)}`);

    log(`steady: ${options.steadyRate} ${options.message}/s for ${phases.steadyMs / 1000} s`);
    const steady = { type: 'steady', action: options.message, ratePerSecond: options.steadyRate / generatorCount, warmupMs: phases.warmupMs, durationMs: phases.steadyMs } as const;
    const steadied = await all((g) => g.request(steady, 'steadied', phases.warmupMs + phases.steadyMs + 120_000));
    const steadyLatency = latency(steadied.flatMap((s) => s.latenciesMs));
    log(`steady: p50 ${steadyLatency.p50} ms, p99 ${steadyLatency.p99} ms, ${sum(steadied.map((s) => s.errors))} errors`);

    const end = await server.request({ type: 'stats' }, 'stats');
    if (options.profile) {
      mkdirSync(options.profile, { recursive: true });
      const { file } = await server.request({ type: 'profile-end', file: path.resolve(options.profile, `${kind}-${new Date().toISOString().replace(/[:.]/g, '')}.cpuprofile`) }, 'profiled', 300_000);
      log(`CPU profile of the server's main thread: ${file}`);
    }
    const lastErrors = [...started, ...held, ...saturated, ...steadied].map((r) => r.lastError).filter((e): e is string => !!e);
    return {
      kind,
      chargers,
      connectSeconds,
      connectFailures: sum(started.map((s) => s.connectFailures)),
      heldAfterHold: afterHold.connected,
      heldAtEnd: end.connected,
      heapPerChargerKB,
      rssPerChargerKB: (idle.rss - baseline.rss) / booted / 1024,
      hold: { ratePerSecond: sum(held.map((h) => h.answered + h.errors)) / (phases.holdMs / 1000), latency: holdLatency, errors: sum(held.map((h) => h.errors)), generatorDelayMs: Math.max(...held.map((h) => h.loopDelayP99Ms)), serverDelay: afterHold.loopDelay },
      saturated: { perSecond, errors: sum(saturated.map((s) => s.errors)), serverCpuPercent, mainThreadPercent, cpuPerMessageUs, cpuBudget },
      steady: { ratePerSecond: sum(steadied.map((s) => s.answered + s.errors)) / (phases.steadyMs / 1000), latency: steadyLatency, errors: sum(steadied.map((s) => s.errors)), generatorDelayMs: Math.max(...steadied.map((s) => s.loopDelayP99Ms)), serverDelay: end.loopDelay },
      lastErrors: [...new Set(lastErrors.map((e) => e.replace(/^BENCH-\d+: /, '')))].slice(0, 5),
    };
  } finally {
    log('stopping load generators and the server');
    await Promise.all(generators.map((g) => g.stop({ type: 'stop' })));
    await serverHandle.stop();
    children.clear();
    stopLeftoverTemporal(dataDir, log);
    rmSync(dataDir, { recursive: true, force: true });
    await scratch?.drop();
  }
}

/** The machine's CPU over the saturate phase, split by who used it; null without the figures to split it. */
function cpuBudgetOf(usPerMessage: (ms: number) => number, serverMs: number, mainThreadMs: number | null, generatorsMs: number, machine: { busyMs: number; idleMs: number } | null): CpuBudget | null {
  if (mainThreadMs === null || machine === null) return null;
  return {
    serverMainThread: usPerMessage(mainThreadMs),
    serverOtherThreads: usPerMessage(serverMs - mainThreadMs),
    loadGenerators: usPerMessage(generatorsMs),
    restOfMachine: usPerMessage(Math.max(0, machine.busyMs - serverMs - generatorsMs)),
    machineIdlePercent: (machine.idleMs / (machine.busyMs + machine.idleMs)) * 100,
  };
}

function formatBudget(b: CpuBudget): string {
  const total = b.serverMainThread + b.serverOtherThreads + b.loadGenerators + b.restOfMachine;
  return `${Math.round(b.serverMainThread)} + ${Math.round(b.serverOtherThreads)} + ${Math.round(b.loadGenerators)} + ${Math.round(b.restOfMachine)} = ${Math.round(total)} µs; idle ${Math.round(b.machineIdlePercent)} %`;
}

function formatReport(measured: ServerResult[]): string {
  const concierge = measured.find((r) => r.kind === 'concierge');
  const stored = measured.find((r) => r.kind === 'stored');
  const bare = measured.find((r) => r.kind === 'bare');
  const database = options.databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)';
  const lines = [
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${int(chargers)} OCPP ${options.protocol} chargers${options.quick ? ' (quick)' : ''}${concierge || stored ? ` on ${database}` : ', bare server only'}`,
    '',
    `Concierge at commit ${commit()}. ` +
      `Machine: ${machine()}. ` +
      `Load: ${generatorCount} load-generator process(es) on the same machine. Measured message: ${options.message}; saturation with ${int(options.inFlight)} chargers in flight; ` +
      `phases: hold ${phases.holdMs / 1000} s, saturate ${phases.saturateMs / 1000} s and steady ${phases.steadyMs / 1000} s after ${phases.warmupMs / 1000} s warm-up each.` +
      (options.serverNodeOptions ? ` Server processes run with \`${options.serverNodeOptions}\`.` : ''),
    '',
    '| measure | target (Concierge) | Concierge | ocpp-rpc + storage only | bare ocpp-rpc |',
    '| --- | --- | --- | --- | --- |',
  ];
  const cell = (r: ServerResult | undefined, f: (r: ServerResult) => string) => (r ? f(r) : '—');
  // Targets are judged on full runs of 10,000 chargers only.
  const judged = chargers >= 10_000 && !options.quick;
  const verdict = (ok: boolean | undefined) => (ok === undefined || !judged ? '' : ok ? ' ✅' : ' ❌');
  const ofBare = (r: ServerResult) => (bare && r !== bare ? r.saturated.perSecond / bare.saturated.perSecond : undefined);
  const ratio = concierge && ofBare(concierge);
  const budgetCell = (r: ServerResult) => (r.saturated.cpuBudget ? formatBudget(r.saturated.cpuBudget) : r.saturated.perSecond === 0 ? '— (nothing answered)' : 'not measured (no /proc)');
  /** A row: Concierge's cell, and one made the same way for the other two servers. */
  const row = (measure: string, target: string, c: string, other: (r: ServerResult) => string) => lines.push(`| ${measure} | ${target} | ${c} | ${cell(stored, other)} | ${cell(bare, other)} |`);
  row('chargers connected and held (server count, after hold / at end)', '≥ 10,000', cell(concierge, (r) => `${int(r.heldAfterHold)} / ${int(r.heldAtEnd)}${verdict(r.heldAtEnd >= 10_000)}`), (r) => `${int(r.heldAfterHold)} / ${int(r.heldAtEnd)}`);
  row('time to connect and boot them all', '—', cell(concierge, (r) => `${r.connectSeconds.toFixed(1)} s`), (r) => `${r.connectSeconds.toFixed(1)} s`);
  row('heap per idle charger (heapUsed after GC, delta / chargers)', '< 40 KB', cell(concierge, (r) => `${r.heapPerChargerKB.toFixed(1)} KB${verdict(r.heapPerChargerKB < 40)}`), (r) => `${r.heapPerChargerKB.toFixed(1)} KB`);
  row('RSS per idle charger (for reference)', '—', cell(concierge, (r) => `${r.rssPerChargerKB.toFixed(1)} KB`), (r) => `${r.rssPerChargerKB.toFixed(1)} KB`);
  row(
    `saturated ${options.message}/s`,
    '≥ 80 % of bare',
    cell(concierge, (r) => `${int(r.saturated.perSecond)}${ratio === undefined ? '' : ` (${Math.round(ratio * 100)} %)${verdict(ratio >= 0.8)}`}${r.saturated.errors ? `, ${int(r.saturated.errors)} errors` : ''}`),
    (r) => `${int(r.saturated.perSecond)}${ofBare(r) === undefined ? '' : ` (${Math.round(ofBare(r)! * 100)} %)`}${r.saturated.errors ? `, ${int(r.saturated.errors)} errors` : ''}`,
  );
  row('server CPU while saturated (100 % = one core)', '—', cell(concierge, (r) => `${Math.round(r.saturated.serverCpuPercent)} %`), (r) => `${Math.round(r.saturated.serverCpuPercent)} %`);
  row("server main thread's event loop busy while saturated (wall time: 100 % = the main thread limits it)", '—', cell(concierge, (r) => `${Math.round(r.saturated.mainThreadPercent)} %`), (r) => `${Math.round(r.saturated.mainThreadPercent)} %`);
  row('server CPU per message while saturated, all threads', '—', cell(concierge, (r) => µs(r.saturated.cpuPerMessageUs)), (r) => µs(r.saturated.cpuPerMessageUs));
  row(
    "machine CPU per message while saturated: server main thread + server's other threads (database thread, GC helpers) + load generators + rest of the machine (PostgreSQL, Temporal, kernel) = total; share of the machine left idle",
    '—',
    cell(concierge, budgetCell),
    budgetCell,
  );
  const steadyCell = (r: ServerResult) => `${r.steady.latency.p50} / ${r.steady.latency.p99} ms at ${int(r.steady.ratePerSecond)}/s${r.steady.errors ? `, ${int(r.steady.errors)} errors` : ''}`;
  row(`p50 / p99 response at a steady ${int(options.steadyRate)} ${options.message}/s`, 'p99 < 50 ms', cell(concierge, (r) => `${steadyCell(r)}${verdict(r.steady.latency.p99 < 50 && r.steady.errors === 0)}`), steadyCell);
  const holdCell = (r: ServerResult) => `${r.hold.latency.p50} / ${r.hold.latency.p99} ms at ${int(r.hold.ratePerSecond)} msg/s${r.hold.errors ? `, ${int(r.hold.errors)} errors` : ''}`;
  row('p50 / p99 response of the periodic traffic (hold phase)', '—', cell(concierge, holdCell), holdCell);
  const delayCell = (r: ServerResult) => `${r.hold.generatorDelayMs} / ${r.steady.generatorDelayMs} ms`;
  row("load generators' own event-loop delay, p99 (hold / steady): part of the response times above", '—', cell(concierge, delayCell), delayCell);
  const serverDelayCell = (r: ServerResult) => `${r.hold.serverDelay.p99Ms} / ${r.hold.serverDelay.maxMs} ms; ${r.steady.serverDelay.p99Ms} / ${r.steady.serverDelay.maxMs} ms`;
  row("server's event-loop delay, p99 / max (hold; steady)", '—', cell(concierge, serverDelayCell), serverDelayCell);
  for (const r of measured) {
    if (r.lastErrors.length) lines.push('', `Errors seen on ${SERVER_NAMES[r.kind]} (last of each generator): ${r.lastErrors.map((e) => `\`${e}\``).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}
