import { Client, Connection } from '@temporalio/client';
import { Command, InvalidArgumentError } from 'commander';
import { migrateToLatest, openDatabase } from '../db/connect.js';
import { Option } from 'commander';
import { PRIORITIES, type Priority } from '../contracts/faults.js';
import { targetsFor } from '../contracts/agreement-terms.js';
import { slaDeadlines } from '../contracts/sla.js';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { CdrForPricingSchema, decimalJson, ocpiPrices, periodsOfCdr, priceSession, TariffSchema } from '../contracts/tariff.js';
import { portUptimeFromHistory } from '../agreements/uptime-report.js';
import { monthFigures, monthPeriod } from '../agreements/month-figures.js';
import { agreementsInForce } from '../agreements/store.js';
import { settleMonth } from '../contracts/settlement.js';
import { settleAndWait } from '../workflow-clients/settlements.js';
import { priceEndedSessions } from '../agreements/cdrs.js';
import { summariseAgreement } from '../agreements/summary.js';
import { agreementsDir, formatProblems, loadAgreements } from '../agreements/load.js';
import { ConfigError, loadConfig, type Config } from '../runtime/config.js';
import { refuseWhileServed } from '../runtime/embedded-database.js';
import { startConcierge, type RunningConcierge } from '../runtime/concierge.js';
import { createLogger } from '../platform/log.js';
import { chargerIds, formatProgress, httpBaseOf, registerChargers, SIMULATED_PROTOCOLS, SIMULATOR_DEFAULTS, startSimulation, type SimulatedProtocol } from '../simulator/index.js';

const numberOption =
  (what: string, test: (n: number) => boolean) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !test(n)) throw new InvalidArgumentError(`expected ${what}`);
    return n;
  };
const wholeNumber = numberOption('a whole number from 1', (n) => Number.isInteger(n) && n >= 1);
const positive = numberOption('a number above 0', (n) => n > 0);
const zeroOrMore = numberOption('a number from 0', (n) => n >= 0);

const program = new Command('concierge').description('The service engine behind destination EV charging.');

program
  .command('start')
  .description('Run Concierge: Temporal dev server (unless TEMPORAL_ADDRESS), database, worker, API and OCPP gateway in one process')
  .action(async () => {
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    // Signals are handled from the first moment: a Ctrl-C during start-up stops what has started.
    const state: { app?: RunningConcierge; stopping: boolean } = { stopping: false };
    const stop = (reason: string, code: number) => {
      state.stopping = true;
      log.info({ reason }, 'stopping');
      // While start-up is still running there is nothing to stop yet; it stops everything once it returns.
      state.app?.stop().then(
        () => process.exit(code),
        (error: unknown) => {
          log.error({ err: error }, 'stop failed');
          process.exit(1);
        },
      );
    };
    const onSignal = (signal: string) => {
      if (!state.stopping) return stop(signal, 0);
      console.log('stopping immediately');
      process.exit(130);
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));

    const app = await startConcierge(config, {
      log,
      onWorkerFailure: (error) => {
        log.fatal({ err: error }, 'the Temporal worker failed');
        stop('worker failure', 1);
      },
    });
    state.app = app;
    if (state.stopping) {
      await app.stop();
      process.exit(0);
    }
    const ws = app.url.replace(/^http/, 'ws');
    const lines = [
      '',
      'Concierge is running',
      `  API          ${app.url}/api`,
      `  API docs     ${app.url}/docs`,
      `  Health       ${app.url}/health`,
      `  OCPP         ${ws}/ocpp/<chargerId>   (OCPP 1.6-J or 2.0.1, HTTP Basic auth)`,
      app.temporalUiUrl ? `  Temporal UI  ${app.temporalUiUrl}` : `  Temporal     ${config.temporal.address} (namespace ${config.temporal.namespace})`,
      `  Data         ${config.database.url ? 'PostgreSQL (DATABASE_URL)' : config.dataDir}`,
    ];
    if (app.generatedAdminToken) {
      lines.push('', `  Admin API token (shown only this once, store it now): ${app.generatedAdminToken}`);
    }
    console.log(lines.join('\n') + '\n');
  });

program
  .command('migrate')
  .description('Apply database migrations and exit')
  .action(async () => {
    const config = loadConfig();
    guardEmbeddedDatabase(config);
    const db = openDatabase(config.database);
    try {
      await migrateToLatest(db);
      console.log('database is up to date');
    } finally {
      await db.destroy();
    }
  });

const contracts = program.command('contracts').description('Service agreements in contracts/agreements');

contracts
  .command('check')
  .description('Validate every agreement; exit 1 naming each problem by file and field path')
  .option('--dir <folder>', 'the folder of agreement files (default: AGREEMENTS_DIR, else contracts/agreements)')
  .action(async ({ dir }: { dir?: string }) => {
    const { agreements, problems } = await loadAgreements(dir ?? loadConfig().agreementsDir ?? agreementsDir);
    if (problems.length > 0) {
      console.error(formatProblems(problems));
      console.error(`\n${problems.length} problem${problems.length > 1 ? 's' : ''} found`);
      process.exit(1);
    }
    console.log(`${agreements.length} agreements valid: ${agreements.map((a) => a.id).join(', ')}`);
  });

contracts
  .command('show <agreementId>')
  .description('A readable summary of one agreement')
  .action(async (agreementId: string) => {
    const agreement = await requireAgreement(agreementId);
    console.log(summariseAgreement(agreement));
  });

program
  .command('sla')
  .description('SLA clock math')
  .command('deadlines')
  .description("Respond-by and fix-by of an incident opened at an instant, on the agreement's calendars")
  .requiredOption('--agreement <id>', 'agreement id')
  .addOption(new Option('--priority <priority>', 'incident priority').choices([...PRIORITIES]).makeOptionMandatory())
  .requiredOption('--opened <instant>', 'when the incident opened, ISO-8601 with offset, e.g. 2026-03-27T15:00:00Z')
  .option('--site <id>', 'the site, when the agreement has sites in several time zones')
  .action(async (options: { agreement: string; priority: Priority; opened: string; site?: string }) => {
    const openedAt = parseInstant(options.opened, '--opened');
    const agreement = await requireAgreement(options.agreement);
    const { respondBy, fixBy } = slaDeadlines(openedAt, targetsFor(agreement, options.priority, options.site));
    console.log(JSON.stringify({ respondBy: respondBy.toISOString(), fixBy: fixBy.toISOString() }));
  });

program
  .command('uptime')
  .description("A port's NEVI uptime over a period, from the recorded status history (stop a PGlite-backed server first)")
  .requiredOption('--agreement <id>', 'agreement id')
  .requiredOption('--charger <id>', 'charger id')
  .requiredOption('--connector <n>', 'connector (port) number', (value) => {
    if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a connector number from 1');
    return Number(value);
  })
  .requiredOption('--from <instant>', 'period start, ISO-8601 with offset')
  .requiredOption('--to <instant>', 'period end, ISO-8601 with offset')
  .action(async (options: { agreement: string; charger: string; connector: number; from: string; to: string }) => {
    const period = { start: parseInstant(options.from, '--from'), end: parseInstant(options.to, '--to') };
    if (period.end <= period.start) fail('--to must be after --from');
    const agreement = await requireAgreement(options.agreement);
    const config = loadConfig();
    guardEmbeddedDatabase(config);
    const db = openDatabase(config.database);
    try {
      await migrateToLatest(db);
      console.log(JSON.stringify(await portUptimeFromHistory(db, agreement, options.charger, options.connector, period)));
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    } finally {
      await db.destroy();
    }
  });

program
  .command('settle')
  .description("An agreement's statement for a month: its lines of who pays whom, from the month's CDRs, coverage, uptime and breaches")
  .requiredOption('--agreement <id>', 'agreement id')
  .requiredOption('--month <yyyy-mm>', "the month, in the agreement's time zone")
  .option('--dry-run', 'compute the statement and print it, issuing nothing (reads the database itself)')
  .option('--wait <seconds>', 'without --dry-run: how long to wait for the settlement to be sent, found unchanged or await approval', numberOption('a positive number of seconds', (n) => n > 0), 120)
  .action(async (options: { agreement: string; month: string; dryRun?: boolean; wait: number }) => {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(options.month)) fail(`--month: expected a month as yyyy-mm, found "${options.month}"`);
    const config = loadConfig();
    if (options.dryRun) return dryRunSettlement(config, options);
    // Issuing is the settlement workflow's, on the running Concierge's Temporal: as the API's POST /api/settlements.
    const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devServer.port}`;
    const connection = await Connection.connect({ address, connectTimeout: '5s' }).catch((error: unknown) =>
      fail(`cannot reach Temporal at ${address} (${error instanceof Error ? error.message : String(error)}): start Concierge (concierge start) or set TEMPORAL_ADDRESS`),
    );
    try {
      const temporal = new Client({ connection, namespace: config.temporal.namespace });
      const { joined, state } = await settleAndWait(temporal, config.temporal.taskQueue, { agreementId: options.agreement, month: options.month }, { timeoutMs: options.wait * 1000 });
      if (joined) console.error(`${options.month} of ${options.agreement} was being settled already: this is that settlement`);
      console.log(JSON.stringify(state, null, 2));
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    } finally {
      await connection.close();
    }
  });

/** `settle --dry-run`: the month's statement computed from the database and printed; nothing issued. */
async function dryRunSettlement(config: Config, options: { agreement: string; month: string }) {
  guardEmbeddedDatabase(config);
  const db = openDatabase(config.database);
  try {
    await migrateToLatest(db);
    // The agreement as the database has it (what was in force), not as its file says today.
    const agreement = (await agreementsInForce(db)).find((a) => a.id === options.agreement);
    if (!agreement) fail(`agreement "${options.agreement}" is not in the database: start Concierge once, so that it syncs the agreement files`);
    const period = monthPeriod(agreement, options.month);
    // Sessions of the month not yet priced are priced first (as the worker would have), so the month is whole.
    while ((await priceEndedSessions(db, { endedBefore: period.end })) > 0);
    const { figures } = await monthFigures(db, agreement, options.month);
    console.log(decimalJson(settleMonth(figures)));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  } finally {
    await db.destroy();
  }
}

/** The CLI opens the database itself: not the embedded one while a server holds it. */
function guardEmbeddedDatabase(config: Config) {
  try {
    refuseWhileServed(config, 'set DATABASE_URL to a PostgreSQL database to run the server and the CLI side by side');
  } catch (error) {
    fail((error as Error).message);
  }
}

program
  .command('simulate')
  .description('Simulated chargers for demos and load tests: boot, statuses, heartbeats, meter values, sessions and faults (Ctrl-C stops)')
  .requiredOption('--url <ws-url>', "the gateway's OCPP endpoint; each charger connects to <url>/<id>, e.g. ws://localhost:8080/ocpp")
  .option('--chargers <n>', 'how many chargers', wholeNumber, 10)
  .addOption(new Option('--protocol <version>', 'OCPP version').choices(SIMULATED_PROTOCOLS).default('1.6'))
  .option('--fault-rate <per-hour>', 'faults per charger per hour, at random times (0 = none); each is cleared after 30 s to 5 min', zeroOrMore, SIMULATOR_DEFAULTS.faultRatePerHour)
  .option('--sessions-per-hour <n>', 'charging sessions per charger per hour, at random times (0 = none)', zeroOrMore, SIMULATOR_DEFAULTS.sessionsPerHour)
  .option('--password <password>', "every simulated charger's Basic-auth password (16–40 characters)", SIMULATOR_DEFAULTS.password)
  .option('--id-prefix <prefix>', 'charger ids are the prefix and a number: SIM-00001, SIM-00002, ...', SIMULATOR_DEFAULTS.idPrefix)
  .option('--register-token <token>', 'first register every charger with POST /api/chargers using this API token (409, already registered, is fine)')
  .option('--connectors <n>', 'connectors (1.6) or EVSEs (2.0.1) per charger', wholeNumber, SIMULATOR_DEFAULTS.connectors)
  .option('--interval <seconds>', 'heartbeat and meter values interval', positive, SIMULATOR_DEFAULTS.heartbeatIntervalMs / 1000)
  .option('--ramp <per-second>', 'chargers that start connecting each second, so thousands do not stampede', positive, SIMULATOR_DEFAULTS.connectRatePerSecond)
  .option('--duration <seconds>', 'stop after this long (default: run until Ctrl-C)', positive)
  .action(async (options: SimulateOptions) => {
    if (!/^wss?:\/\//.test(options.url) || !URL.canParse(options.url)) fail(`--url: expected a ws:// or wss:// URL such as ws://localhost:8080/ocpp, found "${options.url}"`);
    if (options.password.length < 16 || options.password.length > 40) fail('--password: expected 16 to 40 characters');
    let ids: string[];
    try {
      ids = chargerIds(options.idPrefix, options.chargers);
    } catch (error) {
      fail(`--id-prefix: ${(error as Error).message}`);
    }
    if (options.registerToken) {
      const base = httpBaseOf(options.url);
      console.error(`registering ${ids.length} chargers at ${base}/api/chargers`);
      const { created, existing } = await registerChargers(base, options.registerToken, ids, options.password, (done) => {
        if (process.stderr.isTTY) process.stderr.write(`\r\x1b[Kregistered ${done}/${ids.length}`);
      }).catch((error: unknown) => fail((error as Error).message));
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      console.error(`registered ${created} new, ${existing} already known`);
    }

    const simulation = startSimulation({
      url: options.url,
      chargers: options.chargers,
      protocol: options.protocol,
      faultRatePerHour: options.faultRate,
      sessionsPerHour: options.sessionsPerHour,
      password: options.password,
      idPrefix: options.idPrefix,
      connectors: options.connectors,
      heartbeatIntervalMs: options.interval * 1000,
      meterIntervalMs: options.interval * 1000,
      connectRatePerSecond: options.ramp,
    });
    console.error(`simulating ${options.chargers} OCPP ${options.protocol} chargers against ${options.url}/<id> (Ctrl-C stops)`);
    const line = () => formatProgress(simulation.counters, options.chargers);
    const tty = process.stderr.isTTY;
    let ticks = 0;
    const progress = setInterval(() => {
      if (tty) process.stderr.write(`\r\x1b[K${line()}`);
      else if (++ticks % 10 === 0) console.error(line());
    }, 1000);
    let stopping = false;
    const stop = async () => {
      if (stopping) {
        console.error('\nstopping immediately');
        process.exit(130);
      }
      stopping = true;
      clearInterval(progress);
      if (tty) process.stderr.write(`\r\x1b[K${line()}\n`);
      console.error('stopping: waiting for calls in flight, then closing every socket');
      await simulation.stop();
      console.error(line());
      process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
    if (options.duration) setTimeout(() => void stop(), options.duration * 1000);
  });

interface SimulateOptions {
  url: string;
  chargers: number;
  protocol: SimulatedProtocol;
  faultRate: number;
  sessionsPerHour: number;
  password: string;
  idPrefix: string;
  registerToken?: string;
  connectors: number;
  interval: number;
  ramp: number;
  duration?: number;
}

program
  .command('tariff')
  .description('OCPI 2.2.1 tariffs')
  .command('price')
  .description("Re-price an OCPI 2.2.1 CDR's charging periods under a tariff; prints OCPI's price fields as JSON")
  .requiredOption('--tariff <file>', 'an OCPI 2.2.1 Tariff object (JSON)')
  .requiredOption('--cdr <file>', 'an OCPI 2.2.1 CDR (JSON): its start_date_time, end_date_time and charging_periods are read')
  .option('--time-zone <zone>', "the location's IANA time zone, for time-of-day, date and weekday restrictions", 'UTC')
  .action((options: { tariff: string; cdr: string; timeZone: string }) => {
    const tariff = readJsonFile(options.tariff, TariffSchema);
    const cdr = readJsonFile(options.cdr, CdrForPricingSchema);
    if (!isTimeZone(options.timeZone)) fail(`--time-zone: expected an IANA time zone such as Europe/Amsterdam, found "${options.timeZone}"`);
    console.log(decimalJson({ tariff_id: tariff.id, ...ocpiPrices(priceSession(tariff, periodsOfCdr(cdr), options.timeZone)) }));
  });

/** A JSON file checked against a schema; a problem names the file and each field's path. */
function readJsonFile<T extends z.ZodType>(file: string, schema: T): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) fail(parsed.error.issues.map((issue) => `${file}: ${issue.path.map(String).join('.') || '(the document)'}: ${issue.message}`).join('\n'));
  return parsed.data;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function parseInstant(value: string, option: string): Date {
  const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(instant.getTime())) fail(`${option}: expected an ISO-8601 instant with offset such as 2026-03-27T15:00:00Z, found "${value}"`);
  return instant;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Loads the agreements and returns one; exits 1 if any is invalid or the id is unknown. */
async function requireAgreement(agreementId: string) {
  const { agreements, problems } = await loadAgreements(loadConfig().agreementsDir ?? agreementsDir);
  if (problems.length > 0) {
    console.error(`${formatProblems(problems)}\n\nfix the agreements first (concierge contracts check)`);
    process.exit(1);
  }
  const agreement = agreements.find((a) => a.id === agreementId);
  if (!agreement) {
    console.error(`no agreement "${agreementId}"; known: ${agreements.map((a) => a.id).join(', ')}`);
    process.exit(1);
  }
  return agreement;
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
