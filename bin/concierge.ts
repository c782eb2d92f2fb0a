import { Command } from 'commander';
import { migrateToLatest, openDatabase } from '../db/connect.js';
import { summariseAgreement } from '../runtime/agreement-summary.js';
import { agreementsDir, formatProblems, loadAgreements } from '../runtime/agreements.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { startConcierge } from '../runtime/concierge.js';
import { createLogger } from '../runtime/log.js';

const program = new Command('concierge').description('The service engine behind destination EV charging.');

program
  .command('start')
  .description('Run Concierge: Temporal dev server (unless TEMPORAL_ADDRESS), database, worker, API and OCPP gateway in one process')
  .action(async () => {
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    const app = await startConcierge(config, { log });
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

    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        console.log('stopping immediately');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      app.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'stop failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
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
  .option('--dir <folder>', 'the folder of agreement files', agreementsDir)
  .action(async ({ dir }: { dir: string }) => {
    const { agreements, problems } = await loadAgreements(dir);
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

/** Loads the agreements and returns one; exits 1 if any is invalid or the id is unknown. */
async function requireAgreement(agreementId: string) {
  const { agreements, problems } = await loadAgreements();
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
