import { appendFileSync } from 'node:fs';
import { Command } from 'commander';
import { sql } from 'kysely';
import pMap from 'p-map';
import { priceEndedSessions } from '../agreements/cdrs.js';
import { statementDocuments } from '../agreements/statement-documents.js';
import { issueStatement } from '../agreements/statements.js';
import { syncAgreements } from '../agreements/store.js';
import { monthPeriod } from '../agreements/month-figures.js';
import { parseAgreement, type Agreement } from '../contracts/agreement.js';
import alpina from '../contracts/agreements/hotel-alpina.js';
import greenmart from '../contracts/agreements/greenmart-retail.js';
import harbour from '../contracts/agreements/harbour-estates.js';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { commit, int, logTo, machine, positiveInteger, round, scratchDatabase } from './harness.js';

/**
 * The settlement benchmark (`npm run bench -- settlement`): on PostgreSQL, a generator writes a
 * month of charging through Concierge's own tables — agreements (copies of the three shipped ones,
 * synced as a start would), chargers, sessions with their connector statuses — then Concierge's
 * own code prices every session into a CDR (the worker's pricer), settles every agreement's month
 * into an issued statement, and renders each as HTML, PDF and its three CSVs. Beside it, from the
 * same data, the floor: one bare SQL aggregate of the same sessions per agreement.
 */

export interface SettlementBenchOptions {
  agreements: number;
  chargersPer: number;
  sessions: number;
  month: string;
  batch: number;
  pricers: number;
  concurrency: number;
  databaseUrl?: string;
  out: string;
  write: boolean;
}

const log = logTo('settlement');
const SHIPPED = [alpina, greenmart, harbour];

export async function runSettlementBench(argv: string[]): Promise<number> {
  const program = new Command('bench settlement')
    .description('Price, settle and render a month: 1,000 agreements, 10,000 chargers, 1,000,000 sessions by default, on PostgreSQL; a bare SQL aggregate beside it')
    .option('--agreements <n>', 'agreements (copies of the shipped three, in turn)', positiveInteger, 1000)
    .option('--chargers-per <n>', 'chargers per agreement', positiveInteger, 10)
    .option('--sessions <n>', 'sessions in the month, spread evenly over the chargers', positiveInteger, 1_000_000)
    .option('--month <yyyy-mm>', 'the month generated and settled', '2026-10')
    .option('--batch <n>', 'sessions the pricer takes per batch', positiveInteger, 2000)
    .option('--pricers <n>', 'batches priced at once, each by its own loop (a worker on PostgreSQL runs 2)', positiveInteger, 2)
    .option('--concurrency <n>', 'months settled and statements rendered at once, as a worker runs the settlement workflows’ activities', positiveInteger, 2)
    .option('--database-url <url>', 'a PostgreSQL server (an admin URL: a scratch database is created and dropped); default TEST_DATABASE_URL or DATABASE_URL')
    .option('--out <file>', 'where the results are appended', 'docs/benchmarks.md')
    .option('--no-write', 'print the results only');
  program.parse(argv, { from: 'user' });
  const options = program.opts<SettlementBenchOptions>();
  const adminUrl = options.databaseUrl ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!adminUrl) {
    console.error('the settlement benchmark runs on PostgreSQL: pass --database-url or set TEST_DATABASE_URL');
    return 1;
  }
  const scratch = await scratchDatabase(adminUrl);
  const db = openDatabase({ url: scratch.url });
  const memory = trackMemory();
  try {
    await migrateToLatest(db);
    const generated = await generate(db, options);
    const period = monthPeriod(generated.agreements[0]!, options.month);
    // Settled on the day after the month, as if on its settlement day: the clock only decides that the month is over.
    const now = new Date(period.end.getTime() + 86_400_000);

    memory.reset();
    const floor = await timed(() => bareAggregate(db, period));
    log(`bare SQL aggregate: ${floor.ms} ms for ${floor.result} agreements`);

    memory.reset();
    let priced = 0;
    // `--pricers` loops at once, as several workers' pricers would run (each skips the others' batches).
    const pricing = await timed(async () => {
      const loop = async () => {
        for (let n; (n = await priceEndedSessions(db, { limit: options.batch, endedBefore: period.end, issuedAt: now, skipLocked: true })) > 0; ) {
          priced += n;
          if (priced % 100_000 < n) log(`priced ${int(priced)} sessions`);
        }
      };
      await Promise.all(Array.from({ length: options.pricers }, loop));
      return priced;
    });
    const pricingRss = memory.peak();
    log(`priced ${int(priced)} sessions into CDRs in ${round(pricing.ms / 1000)} s`);

    const writeFloor = await timed(() => storeAgain(db));
    log(`write floor: the same CDR rows stored again within the server in ${round(writeFloor.ms / 1000)} s`);

    memory.reset();
    let statementIds: string[] = [];
    const settling = await timed(async () => {
      statementIds = await pMap(generated.agreements, async (agreement) => (await issueStatement(db, agreement, 1, options.month, now)).statementId, { concurrency: options.concurrency });
    });
    const settlingRss = memory.peak();
    log(`settled ${statementIds.length} months in ${round(settling.ms / 1000)} s`);

    memory.reset();
    let bytes = 0;
    const rendering = await timed(() =>
      pMap(
        statementIds,
        async (id) => {
          const documents = (await statementDocuments(db, id))!;
          bytes += documents.html.length + documents.pdf.length + documents.csv.lines.length + documents.csv.sessions.length + documents.csv.outages.length;
        },
        { concurrency: options.concurrency },
      ),
    );
    const renderingRss = memory.peak();
    log(`rendered ${statementIds.length} statements (${int(bytes / 2 ** 20)} MiB) in ${round(rendering.ms / 1000)} s`);

    const cdrs = Number((await sql<{ n: string }>`select count(*) as n from cdrs`.execute(db)).rows[0]!.n);
    const result = {
      options,
      generated,
      cdrs,
      floorMs: floor.ms,
      writeFloorMs: writeFloor.ms,
      pricingMs: pricing.ms,
      settlingMs: settling.ms,
      renderingMs: rendering.ms,
      rss: { base: memory.base, pricing: pricingRss, settling: settlingRss, rendering: renderingRss },
      bytes,
      statements: statementIds.length,
    };
    const report = formatReport(result);
    console.log(report);
    if (options.write) appendFileSync(options.out, `\n${report}`);
    return cdrs === options.sessions && statementIds.length === options.agreements ? 0 : 1;
  } finally {
    memory.stop();
    await db.destroy();
    await scratch.drop();
  }
}

/**
 * Agreements (the shipped three in turn, each with its own id, sites and chargers), synced as a
 * start syncs them, dated before the month; their chargers; and the month's sessions, each with
 * the statuses a charger reports (Charging at the start, SuspendedEV when the car is full, a
 * quarter of the sessions idle for a while after). Written with SQL, as the gateway's rows are.
 */
export async function generate(db: Db, options: SettlementBenchOptions) {
  const started = Date.now();
  const agreements: Agreement[] = [];
  for (let i = 0; i < options.agreements; i++) {
    const template = SHIPPED[i % SHIPPED.length]!;
    const site = template.sites[0]!;
    const id = `bench-${String(i).padStart(4, '0')}`;
    const input = {
      ...template,
      id,
      sites: [{ ...site, id: `${id}-site`, chargers: Array.from({ length: options.chargersPer }, (_, k) => ({ id: `B${String(i).padStart(4, '0')}-${String(k).padStart(2, '0')}`, model: 'Bench AC 22', connectors: 1 })) }],
    };
    const parsed = parseAgreement(input);
    if (!parsed.agreement) throw new Error(`generated agreement ${id} is invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
    agreements.push(parsed.agreement);
  }
  const period = monthPeriod(agreements[0]!, options.month);
  await syncAgreements(db, agreements, new Date(period.start.getTime() - 30 * 86_400_000));
  await sql`
    insert into chargers (id, password_hash, site_id, protocol, state)
    select charger_id, 'bench', site_id, 'ocpp1.6', 'active' from agreement_chargers
  `.execute(db);

  // Session n on charger c: evenly spaced through the month, 40 to 220 minutes long, 4 to 44 kWh.
  const chargers = options.agreements * options.chargersPer;
  const perCharger = Math.ceil(options.sessions / chargers);
  const monthSeconds = (period.end.getTime() - period.start.getTime()) / 1000;
  const spacing = Math.floor(monthSeconds / perCharger);
  await sql`
    insert into sessions (charger_id, connector_id, transaction_id, id_tag, status, started_at, ended_at, meter_start_wh, meter_last_wh, meter_stop_wh, protocol)
    select c.charger_id, 1, n::text, case when n % 10 = 0 then 'ALPINA-GUEST' else 'RFID-' || (n % 500) end, 'ended',
           ${period.start}::timestamptz + make_interval(secs => n * ${spacing} + (c.k % 600) * 1.0),
           ${period.start}::timestamptz + make_interval(secs => n * ${spacing} + (c.k % 600) + 2400 + (n * 7919 + c.k) % 10800),
           0, 4000 + ((n * 104729 + c.k) % 40000), 4000 + ((n * 104729 + c.k) % 40000), 'ocpp1.6'
    from (select charger_id, row_number() over (order by charger_id) as k from agreement_chargers) c
    cross join generate_series(0, ${perCharger - 1}) as n
    where (c.k - 1) * ${perCharger} + n < ${options.sessions}
  `.execute(db);
  // Charging from the start; full (SuspendedEV) at 80 % of the session for a quarter of them, idle until the end.
  await sql`
    insert into status_log (charger_id, connector_id, status, reported_at, protocol, payload)
    select charger_id, connector_id, 'Charging', started_at, 'ocpp1.6', '{}'::jsonb from sessions
    union all
    select charger_id, connector_id, 'SuspendedEV', started_at + (ended_at - started_at) * 0.8, 'ocpp1.6', '{}'::jsonb from sessions where id % 4 = 0
  `.execute(db);
  await sql`analyze`.execute(db);
  const sessions = Number((await sql<{ n: string }>`select count(*) as n from sessions`.execute(db)).rows[0]!.n);
  const generatedMs = Date.now() - started;
  log(`generated ${options.agreements} agreements, ${chargers} chargers, ${int(sessions)} sessions in ${round(generatedMs / 1000)} s`);
  return { agreements, chargers, sessions, generatedMs };
}

/** The floor: the month's sessions of each agreement counted and their energy summed, in one SQL statement — no pricing, no statement. */
async function bareAggregate(db: Db, period: { start: Date; end: Date }): Promise<number> {
  const rows = await sql<{ agreement_id: string }>`
    select ac.agreement_id, count(*) as sessions, sum(s.energy_wh) as energy_wh
    from sessions s join agreement_chargers ac on ac.charger_id = s.charger_id
    where s.status = 'ended' and s.ended_at >= ${period.start} and s.ended_at < ${period.end}
    group by ac.agreement_id
  `.execute(db);
  return rows.rows.length;
}

/**
 * The write floor: the month's CDR rows stored once more, copied within the server into a table
 * like `cdrs` (its indexes and compression), each document built anew so that it is compressed
 * again — what PostgreSQL needs to store them, with no client, no parameters and no pricing.
 */
async function storeAgain(db: Db): Promise<void> {
  await sql`create table cdrs_write_floor (like cdrs including all)`.execute(db);
  try {
    const columns = (await sql<{ name: string }>`select column_name as name from information_schema.columns where table_name = 'cdrs' order by ordinal_position`.execute(db)).rows.map((r) => r.name);
    const values = columns.map((c) => (c === 'document' ? sql`document || ''` : sql.ref(c)));
    await sql`insert into cdrs_write_floor (${sql.join(columns.map((c) => sql.ref(c)))}) select ${sql.join(values)} from cdrs`.execute(db);
  } finally {
    await sql`drop table cdrs_write_floor`.execute(db);
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: Math.round(performance.now() - started), result };
}

/** Peak resident set size per phase (sampled every 100 ms), in MiB. */
function trackMemory() {
  const mib = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const base = mib();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, mib())), 100);
  return {
    base,
    reset: () => void (peak = mib()),
    peak: () => Math.max(peak, mib()),
    stop: () => clearInterval(timer),
  };
}

function formatReport(r: {
  options: SettlementBenchOptions;
  generated: { chargers: number; sessions: number; generatedMs: number };
  cdrs: number;
  floorMs: number;
  writeFloorMs: number;
  pricingMs: number;
  settlingMs: number;
  renderingMs: number;
  rss: { base: number; pricing: number; settling: number; rendering: number };
  bytes: number;
  statements: number;
}): string {
  const total = r.pricingMs + r.settlingMs + r.renderingMs;
  const s = (ms: number) => `${round(ms / 1000)} s`;
  const at = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return [
    `## ${at} UTC — settlement: ${int(r.options.agreements)} agreements, ${int(r.generated.chargers)} chargers, ${int(r.generated.sessions)} sessions on PostgreSQL`,
    '',
    `Machine: ${machine()}. Commit: ${commit()}. Month ${r.options.month}; ${r.options.pricers} batch${r.options.pricers > 1 ? 'es' : ''} of ${r.options.batch} priced at once; ${r.options.concurrency} month${r.options.concurrency > 1 ? 's' : ''} settled and rendered at once; the data generated in ${s(r.generated.generatedMs)} (not counted).`,
    '',
    '| measure | target | this run |',
    '| --- | --- | --- |',
    `| price, settle and render every statement | < 60 s | ${total < 60_000 ? '✅' : '❌'} ${s(total)} |`,
    `| — price ${int(r.cdrs)} sessions into CDRs | | ${s(r.pricingMs)} (${int(r.cdrs / (r.pricingMs / 1000))}/s) |`,
    `| — settle ${int(r.statements)} months into issued statements | | ${s(r.settlingMs)} (${round(r.settlingMs / r.statements)} ms each) |`,
    `| — render them: HTML, PDF and three CSVs each (${int(r.bytes / 2 ** 20)} MiB) | | ${s(r.renderingMs)} (${round(r.renderingMs / r.statements)} ms each) |`,
    `| bounded memory: peak RSS per phase | bounded, not growing with sessions | base ${r.rss.base} MiB; pricing ${r.rss.pricing}, settling ${r.rss.settling}, rendering ${r.rss.rendering} MiB |`,
    `| the floor: a bare SQL aggregate of the same sessions per agreement | (the yardstick) | ${s(r.floorMs)} |`,
    `| the write floor: the same ${int(r.cdrs)} CDR rows stored again, copied within PostgreSQL (each document compressed anew; no client, no pricing) | (what storing them costs the server alone) | ${s(r.writeFloorMs)} |`,
    '',
  ].join('\n');
}
