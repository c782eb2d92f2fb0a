import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { DEFAULT_INCIDENT_RULES } from '../contracts/incident.js';
import { createLogger } from '../platform/log.js';
import { startTemporalDevServer } from '../runtime/temporal-dev-server.js';
import { freePort } from '../testkit/ports.js';
import { startProcess, stopProcess, type ConciergeProcess } from '../testkit/processes.js';
import { RawCharger } from '../simulator/raw-charger.js';

/**
 * The chaos run: while incidents are driven through their steps over the API, the Concierge
 * process (or, split, the gateway and worker processes) is killed with -9 at random moments and
 * started again. Afterwards every fault a charger got an answer for must be there exactly once,
 * every step that got a 2xx exactly once, every connector must have one incident, and no SLA
 * deadline may have moved. `npm run chaos -- --help`; test/processes/chaos.test.ts runs a small one.
 */

export interface ChaosOptions {
  incidents: number;
  kills: number;
  /** Seeds the kill moments and which process each kill hits. */
  seed: number;
  /** How many incidents are driven at once. */
  concurrency: number;
  /** PostgreSQL (required when split); otherwise PGlite under the run's data folder. */
  databaseUrl?: string;
  /** An existing Temporal frontend; otherwise the process runs its own dev server, killed and restarted with it (split: one dev server for the run). */
  temporalAddress?: string;
  /** Gateway + API in one process, worker in another (PostgreSQL only). */
  split: boolean;
  log: (message: string) => void;
}

export interface ChaosReport {
  incidents: number;
  kills: Array<{ afterMs: number; process: string }>;
  faults: { answered: number; unanswered: number; presentOnce: number; missing: number; duplicated: number; unansweredPresent: number };
  steps: { answered2xx: number; retried: number; recordedOnce: number; missing: number; duplicated: number };
  incidentsPerConnector: { one: number; none: number; several: number };
  deadlines: { checked: number; moved: number };
  durationMs: number;
  problems: string[];
}

const PASSWORD = 'chaos-password-0123456789';
const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
/** Each incident's steps, in order, and who takes them: the incident's timeline names them as `recorded`. */
const STEPS = [
  { step: 'acknowledge', by: 'admin', recorded: 'acknowledged' },
  { step: 'assign', by: 'admin', recorded: 'assigned' },
  { step: 'accept', by: 'technician', recorded: 'accepted' },
  { step: 'arrive', by: 'technician', recorded: 'arrived' },
  { step: 'diagnose', by: 'technician', recorded: 'diagnosed' },
  { step: 'fix', by: 'technician', recorded: 'fixed' },
] as const;

/** A technician's fix answers the checklist (no agreement covers the run's chargers: the default one). */
const ANSWERED_CHECKLIST = Object.fromEntries(DEFAULT_INCIDENT_RULES.checklist.map((item) => [item, true]));

/** A small seeded generator (mulberry32): the same seed kills at the same moments. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { log } = options;
  if (options.split && !options.databaseUrl) throw new Error('a split run needs PostgreSQL (--database-url): PGlite is one process’s database');
  const started = Date.now();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-chaos-'));
  const port = await freePort();
  // Split processes share one Temporal: the given one, or a dev server of this run's own.
  const sharedTemporal =
    options.split && !options.temporalAddress
      ? await startTemporalDevServer({ port: await freePort(), uiPort: await freePort(), dbFile: path.join(dataDir, 'temporal.sqlite'), namespace: 'default', log: createLogger('warn') })
      : null;
  const temporalAddress = options.temporalAddress ?? sharedTemporal?.address;
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: path.join(dataDir, 'main'),
    CONCIERGE_ADMIN_TOKEN: ADMIN_TOKEN,
    TEMPORAL_TASK_QUEUE: `chaos-${randomUUID().slice(0, 8)}`,
    GATEWAY_NODE: 'chaos-gateway',
    // Deadlines far enough that none breaches during the run: a moved one shows as a changed instant.
    INCIDENT_RESPOND_WITHIN: '2h',
    INCIDENT_FIX_WITHIN: '8h',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(temporalAddress ? { TEMPORAL_ADDRESS: temporalAddress } : { TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_DEV_UI_PORT: String(await freePort()) }),
  };
  const roles = options.split
    ? [
        { name: 'gateway', env: { ...env, CONCIERGE_ROLES: 'gateway,api' }, port },
        { name: 'worker', env: { ...env, CONCIERGE_ROLES: 'worker', DATA_DIR: path.join(dataDir, 'worker') }, port: undefined },
      ]
    : [{ name: 'concierge', env, port }];
  const running = new Map<string, ConciergeProcess>();
  const start = async (role: (typeof roles)[number]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return running.set(role.name, await startProcess(role.name, role.env, role.port));
      } catch (error) {
        // While the embedded Temporal is down, another program on the machine may take one of its
        // ports (its UI's, typically); Concierge then refuses to start. Not what this run is about:
        // move the embedded server to other ports and start again.
        if (attempt === 3 || temporalAddress) throw error;
        log(`${role.name} did not start (${String(error).split('\n').at(-1)}); again with other Temporal ports`);
        Object.assign(role.env, { TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_DEV_UI_PORT: String(await freePort()) });
      }
    }
  };
  for (const role of roles) await start(role);
  const url = `http://127.0.0.1:${port}`;
  const problems: string[] = [];

  /** JSON over HTTP that never throws: a dead server is status 0. */
  async function call(method: string, route: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
    try {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    } catch {
      return { status: 0, body: null };
    }
  }
  /** Retries through kills until the answer is not a dead server or a 5xx. */
  async function persistent(method: string, route: string, token: string, body?: unknown, headers?: Record<string, string>) {
    for (let attempt = 0; ; attempt++) {
      const answer = await call(method, route, token, body, headers);
      if (answer.status !== 0 && answer.status < 500) return { ...answer, attempts: attempt + 1 };
      if (attempt > 600) throw new Error(`${method} ${route}: no answer after ${attempt} tries (last ${answer.status})`);
      await sleep(250);
    }
  }

  try {
    const technician = await persistent('POST', '/api/tokens', ADMIN_TOKEN, { role: 'technician', name: 'Chaos technician' });
    const tokens = { admin: ADMIN_TOKEN, technician: technician.body.token as string };
    const chargerIds = Array.from({ length: options.incidents }, (_, i) => `CHAOS-${String(i + 1).padStart(4, '0')}`);
    for (const id of chargerIds) await persistent('POST', '/api/chargers', ADMIN_TOKEN, { id, password: PASSWORD });

    const answeredFaults: Array<{ chargerId: string; at: string }> = [];
    const unansweredFaults: Array<{ chargerId: string; at: string }> = [];
    const answeredSteps: Array<{ chargerId: string; recorded: string }> = [];
    /** Wakes the killer: a step was answered, or the drive is over. */
    let stepAnswered: (() => void) | undefined;
    let retriedSteps = 0;
    const firstSeen = new Map<string, { id: string; response: { startedAt: string; targetMs: number }; fix: { startedAt: string; targetMs: number }; respondBy: string; fixBy: string }>();

    /** A fault report with a time of its own; answered or not, it is counted. */
    async function reportFault(chargerId: string, errorCode: string, seq: number) {
      const at = new Date(Date.UTC(2026, 0, 1) + seq * 1000 + chargerIds.indexOf(chargerId) * 60_000).toISOString();
      for (let attempt = 0; attempt < 400; attempt++) {
        const charger = await RawCharger.connect(url.replace('http', 'ws'), chargerId, PASSWORD).catch(() => null);
        if (!charger) {
          await sleep(250);
          continue;
        }
        try {
          const frame = await charger.call('StatusNotification', { connectorId: 1, errorCode, status: 'Faulted', timestamp: at }, 15_000).catch(() => null);
          if (frame?.[0] === 3) return void answeredFaults.push({ chargerId, at });
          // Not answered (the server died meanwhile): a charger does not resend a status report; counted.
          return void unansweredFaults.push({ chargerId, at });
        } finally {
          await charger.close().catch(() => undefined);
        }
      }
      throw new Error(`charger ${chargerId} could not connect`);
    }

    async function drive(chargerId: string) {
      // The fault that opens the incident; one the server died before answering is reported anew.
      for (let seq = 1; !answeredFaults.some((f) => f.chargerId === chargerId); seq++) await reportFault(chargerId, 'GroundFailure', seq);
      const incident = await (async () => {
        for (let i = 0; i < 1200; i++) {
          const list = await call('GET', `/api/incidents?chargerId=${chargerId}`, ADMIN_TOKEN);
          if (list.status === 200 && list.body.incidents.length > 0) return list.body.incidents[0];
          await sleep(250);
        }
        throw new Error(`no incident for ${chargerId}`);
      })();
      firstSeen.set(chargerId, {
        id: incident.id,
        response: { startedAt: incident.sla.response.startedAt, targetMs: incident.sla.response.targetMs },
        fix: { startedAt: incident.sla.fix.startedAt, targetMs: incident.sla.fix.targetMs },
        respondBy: incident.sla.respondBy,
        fixBy: incident.sla.fixBy,
      });
      for (const { step, by, recorded } of STEPS) {
        if (step === 'accept') await reportFault(chargerId, 'HighTemperature', 100); // a second occurrence mid-way
        const body = step === 'assign' ? { technician: { id: technician.body.id, name: 'Chaos technician' } } : step === 'diagnose' ? { rootCause: 'hardware' } : step === 'fix' ? { checklist: ANSWERED_CHECKLIST } : {};
        // One key for the step and all its retries: a retry after a lost answer is the same step.
        const answer = await persistent('POST', `/api/incidents/${incident.id}/${step}`, tokens[by], body, { 'idempotency-key': randomUUID() });
        if (answer.attempts > 1) retriedSteps++;
        if (answer.status >= 200 && answer.status < 300) {
          answeredSteps.push({ chargerId, recorded });
          stepAnswered?.();
        }
        else problems.push(`${chargerId} ${step}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    }

    // The kills, at seeded random moments of the drive: each after a random number of steps has
    // been answered, while the other incidents' steps and faults are in flight. The killer wakes
    // with each answer (not by polling, which let the last steps finish unseen), and the last kill
    // comes while more steps remain than are in flight at once, so every kill happens.
    const rand = random(options.seed);
    const totalSteps = options.incidents * STEPS.length;
    const lastKillAt = Math.max(1, totalSteps - options.concurrency - 1);
    const killAfterSteps = Array.from({ length: options.kills }, () => 1 + Math.floor(rand() * lastKillAt)).sort((a, b) => a - b);
    const kills: ChaosReport['kills'] = [];
    let driving = true;
    const t0 = Date.now();
    const killer = (async () => {
      for (const threshold of killAfterSteps) {
        while (driving && answeredSteps.length < threshold) await new Promise<void>((resolve) => (stepAnswered = resolve));
        if (!driving) break;
        const role = roles[Math.floor(rand() * roles.length)]!;
        log(`kill -9 ${role.name} after ${answeredSteps.length} steps, at +${Date.now() - t0} ms`);
        kills.push({ afterMs: Date.now() - t0, process: role.name });
        await stopProcess(running.get(role.name)!, 'SIGKILL');
        await start(role);
        log(`${role.name} is back`);
      }
    })();

    const queue = [...chargerIds];
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, queue.length) }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) await drive(id);
      }),
    );
    driving = false;
    stepAnswered?.();
    await killer;
    log(`driven: ${answeredSteps.length} steps answered 2xx, ${answeredFaults.length} faults answered; checking`);

    // What the API says now, after every kill and restart.
    const report: ChaosReport = {
      incidents: options.incidents,
      kills,
      faults: { answered: answeredFaults.length, unanswered: unansweredFaults.length, presentOnce: 0, missing: 0, duplicated: 0, unansweredPresent: 0 },
      steps: { answered2xx: answeredSteps.length, retried: retriedSteps, recordedOnce: 0, missing: 0, duplicated: 0 },
      incidentsPerConnector: { one: 0, none: 0, several: 0 },
      deadlines: { checked: 0, moved: 0 },
      durationMs: 0,
      problems,
    };
    type IncidentView = {
      id: string;
      faults: Array<{ at: string }>;
      steps: Array<{ step: string }>;
      sla: { response: { startedAt: string; targetMs: number }; fix: { startedAt: string; targetMs: number } };
    };
    const incidentsOf = new Map<string, IncidentView[]>();
    const read = async () => {
      for (const chargerId of chargerIds) incidentsOf.set(chargerId, (await persistent('GET', `/api/incidents?chargerId=${chargerId}`, ADMIN_TOKEN)).body.incidents);
    };
    // An answered fault is stored at once, but reaches its incident through the outbox relay: give
    // the relay a minute to deliver what waited while the process was down.
    const undelivered = () => answeredFaults.filter((f) => !incidentsOf.get(f.chargerId)!.some((i) => i.faults.some((g) => g.at === f.at))).length;
    const readUntil = Date.now() + 60_000;
    for (await read(); undelivered() > 0 && Date.now() < readUntil; await read()) await sleep(1_000);
    for (const chargerId of chargerIds) {
      const incidents = incidentsOf.get(chargerId)!;
      const kind = incidents.length === 1 ? 'one' : incidents.length === 0 ? 'none' : 'several';
      report.incidentsPerConnector[kind]++;
      if (kind !== 'one') problems.push(`${chargerId}: ${incidents.length} incidents`);
      const faults = incidents.flatMap((i) => i.faults);
      for (const fault of answeredFaults.filter((f) => f.chargerId === chargerId)) {
        const times = faults.filter((f) => f.at === fault.at).length;
        if (times === 1) report.faults.presentOnce++;
        else if (times === 0) report.faults.missing++;
        else report.faults.duplicated++;
        if (times !== 1) problems.push(`${chargerId}: answered fault at ${fault.at} present ${times} times`);
      }
      for (const fault of unansweredFaults.filter((f) => f.chargerId === chargerId)) {
        const times = faults.filter((f) => f.at === fault.at).length;
        if (times > 0) report.faults.unansweredPresent++;
        if (times > 1) problems.push(`${chargerId}: unanswered fault at ${fault.at} present ${times} times`);
      }
      const steps = incidents.flatMap((i) => i.steps);
      for (const { recorded } of answeredSteps.filter((s) => s.chargerId === chargerId)) {
        const times = steps.filter((s) => s.step === recorded).length;
        if (times === 1) report.steps.recordedOnce++;
        else if (times === 0) report.steps.missing++;
        else report.steps.duplicated++;
        if (times !== 1) problems.push(`${chargerId}: step ${recorded} recorded ${times} times`);
      }
      const first = firstSeen.get(chargerId);
      const now = incidents.find((i) => i.id === first?.id);
      if (first && now) {
        report.deadlines.checked++;
        const same = (a: { startedAt: string; targetMs: number }, b: { startedAt: string; targetMs: number }) => a.startedAt === b.startedAt && a.targetMs === b.targetMs;
        if (!same(first.response, now.sla.response) || !same(first.fix, now.sla.fix)) {
          report.deadlines.moved++;
          problems.push(`${chargerId}: a clock moved (${JSON.stringify(first)} → ${JSON.stringify(now.sla)})`);
        }
      }
    }
    report.durationMs = Date.now() - started;
    return report;
  } finally {
    for (const child of running.values()) await stopProcess(child, 'SIGTERM').catch(() => undefined);
    await sharedTemporal?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The report as a few lines for people (and docs/benchmarks.md). */
export function describeChaos(report: ChaosReport): string {
  const { faults, steps, incidentsPerConnector: per, deadlines } = report;
  return [
    `incidents driven: ${report.incidents}; kill -9: ${report.kills.length} (${report.kills.map((k) => `${k.process} at +${(k.afterMs / 1000).toFixed(1)} s`).join(', ')}); took ${(report.durationMs / 1000).toFixed(0)} s`,
    `faults answered: ${faults.answered} — present once ${faults.presentOnce}, missing ${faults.missing}, duplicated ${faults.duplicated}; unanswered (server died first): ${faults.unanswered}, of which present ${faults.unansweredPresent}`,
    `steps answered 2xx: ${steps.answered2xx} (${steps.retried} needed retries with their idempotency key) — recorded once ${steps.recordedOnce}, missing ${steps.missing}, duplicated ${steps.duplicated}`,
    `connectors with one incident: ${per.one}, none: ${per.none}, several: ${per.several}; SLA clocks checked: ${deadlines.checked}, moved: ${deadlines.moved}`,
    report.problems.length ? `problems:\n  ${report.problems.join('\n  ')}` : 'problems: none',
  ].join('\n');
}

async function main() {
  const program = new Command('chaos')
    .description('kill -9 Concierge at random moments while incidents are driven over the API; count what survived')
    .addOption(new Option('--incidents <n>', 'incidents to drive (one charger each)').default(100).argParser(Number))
    .addOption(new Option('--kills <n>', 'kill -9 this many times').default(5).argParser(Number))
    .addOption(new Option('--seed <n>', 'seeds the kill moments').default(1).argParser(Number))
    .addOption(new Option('--concurrency <n>', 'incidents driven at once').default(10).argParser(Number))
    .addOption(new Option('--database-url <url>', 'PostgreSQL (default: PGlite in a scratch folder)').env('CHAOS_DATABASE_URL'))
    .addOption(new Option('--temporal-address <host:port>', 'an existing Temporal (default: the embedded dev server, killed and restarted with the process)'))
    .option('--split', 'gateway+api and worker in two processes (PostgreSQL only)', false)
    .parse();
  const opts = program.opts<{ incidents: number; kills: number; seed: number; concurrency: number; databaseUrl?: string; temporalAddress?: string; split: boolean }>();
  const log = (message: string) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}`);
  const report = await runChaos({ ...opts, log });
  console.log(describeChaos(report));
  process.exitCode = report.problems.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
