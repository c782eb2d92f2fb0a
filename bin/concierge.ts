import { Command, InvalidArgumentError } from 'commander';
import { migrateToLatest, openDatabase } from '../db/connect.js';
import { Option } from 'commander';
import { PRIORITIES, type Priority } from '../contracts/faults.js';
import { targetsFor } from '../contracts/agreement-terms.js';
import { slaDeadlines } from '../contracts/sla.js';
import { portUptimeFromHistory } from '../runtime/uptime-report.js';
import { summariseAgreement } from '../runtime/agreement-summary.js';
import { agreementsDir, formatProblems, loadAgreements } from '../runtime/agreements.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { startConcierge, type RunningConcierge } from '../runtime/concierge.js';
import { createLogger } from '../runtime/log.js';

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
