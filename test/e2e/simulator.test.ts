import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { chargerIds, registerChargers, startSimulation, type SimulatedProtocol } from '../../simulator/index.js';
import { ADMIN_TOKEN, eventually, uniqueId, useTestApp } from '../support/app.js';
import { databaseKinds } from '../support/databases.js';

const PASSWORD = 'simulated-charger-secret';
const CHARGERS = 3;

describe.each(databaseKinds)('the charger simulator against Concierge on %s', (kind) => {

  const concierge = useTestApp({ name: 'simulator', database: kind });

  it.each<SimulatedProtocol>(['1.6', '2.0.1'])('OCPP %s: chargers register, boot, report, charge and fault; the database holds what the counters say', async (protocol) => {
    const idPrefix = `${uniqueId('SIM')}-`;
    const ids = chargerIds(idPrefix, CHARGERS);
    expect(await registerChargers(concierge.url, ADMIN_TOKEN, ids, PASSWORD)).toEqual({ created: CHARGERS, existing: 0 });
    expect(await registerChargers(concierge.url, ADMIN_TOKEN, ids.slice(0, 1), PASSWORD)).toEqual({ created: 0, existing: 1 });

    const simulation = startSimulation({
      url: `${concierge.url.replace(/^http/, 'ws')}/ocpp`,
      chargers: CHARGERS,
      protocol,
      idPrefix,
      password: PASSWORD,
      connectors: 2,
      heartbeatIntervalMs: 400,
      meterIntervalMs: 400,
      faultRatePerHour: 7_200,
      faultDurationMs: [300, 800],
      sessionsPerHour: 3_600,
      sessionDurationMs: [400, 1_200],
    });
    const { counters } = simulation;
    await simulation.started;
    expect(counters.booted).toBe(CHARGERS);

    const chargers = () => concierge.db.selectFrom('chargers').selectAll().where('id', 'in', ids).orderBy('id').execute();
    await eventually(async () => (await chargers()).every((c) => c.connected), 10_000, 'every charger connected');
    const vendor = protocol === '1.6' ? 'ConciergeSim' : 'Concierge Simulator';
    expect((await chargers()).map((c) => [c.id, c.vendor, c.protocol])).toEqual(ids.map((id) => [id, vendor, `ocpp${protocol}`]));

    // Run until every kind of traffic has happened a few times.
    await eventually(
      async () => counters.faults >= 3 && counters.cleared >= 1 && counters.sessions >= 2 && (counters.byAction.MeterValues?.answered ?? 0) >= 3 && (counters.byAction.Heartbeat?.answered ?? 0) >= 3,
      30_000,
      'faults, clearings, sessions, meter values and heartbeats',
    );
    await simulation.stop();

    expect(counters.lastError).toBeNull();
    expect(counters).toMatchObject({ connected: 0, booted: 0, errors: 0, connectFailures: 0 });
    expect(counters.sent).toBe(counters.answered);
    expect(counters.sent).toBe(Object.values(counters.byAction).reduce((sum, action) => sum + action.sent, 0));
    await eventually(async () => (await chargers()).every((c) => !c.connected), 10_000, 'every charger disconnected');
    for (const charger of await chargers()) {
      expect(charger.bootedAt).not.toBeNull();
      expect(charger.lastSeenAt).not.toBeNull();
    }

    const count = async (from: string, condition = sql`true`) => {
      const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.table(from)} where charger_id in (${sql.join(ids)}) and ${condition}`.execute(concierge.db);
      return Number(rows[0]!.n);
    };
    const answered = (action: string) => counters.byAction[action]?.answered ?? 0;

    // Every status report is in the log, every fault among them; every session started is recorded.
    expect(await count('status_log')).toBe(answered('StatusNotification'));
    expect(await count('status_log', sql`status = 'Faulted'`)).toBe(counters.faults);
    expect(await count('sessions')).toBe(counters.sessions);
    // Each reading carries two sampled values (energy register and power); 2.0.1 sends a session's readings as TransactionEvents.
    expect(await count('meter_samples')).toBe(2 * (answered('MeterValues') + answered('TransactionEvent')));

    // Every connector that faulted has its incident (opened through the outbox, Temporal and the projection).
    const faulted = await concierge.db.selectFrom('statusLog').select(['chargerId', 'connectorId']).distinct().where('chargerId', 'in', ids).where('status', '=', 'Faulted').execute();
    const key = (r: { chargerId: string; connectorId: number }) => `${r.chargerId}:${r.connectorId}`;
    const expected = faulted.map(key).sort();
    expect(expected.length).toBeGreaterThan(0);
    await eventually(
      async () => {
        const incidents = await concierge.db.selectFrom('incidents').select(['chargerId', 'connectorId']).distinct().where('chargerId', 'in', ids).execute();
        return JSON.stringify(incidents.map(key).sort()) === JSON.stringify(expected);
      },
      30_000,
      `incidents on ${expected.join(', ')}`,
    );
  });
});

describe('concierge simulate arguments', () => {
  const run = promisify(execFile);
  const root = path.resolve(import.meta.dirname, '../..');
  const simulate = async (...args: string[]) => {
    try {
      await run(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'simulate', ...args], { cwd: root });
      return { code: 0, stderr: '' };
    } catch (error) {
      const failed = error as { code: number; stderr: string };
      return { code: failed.code, stderr: failed.stderr };
    }
  };

  it.each([
    [['--url', 'ws://127.0.0.1:9/ocpp', '--protocol', '2.1'], /'--protocol <version>' argument '2\.1' is invalid\. Allowed choices are 1\.6, 2\.0\.1/],
    [['--url', 'http://127.0.0.1:9/ocpp'], /--url: expected a ws:\/\/ or wss:\/\/ URL/],
    [['--url', 'ws://127.0.0.1:9/ocpp', '--fault-rate', '-1'], /'--fault-rate <per-hour>' argument '-1' is invalid/],
    [['--url', 'ws://127.0.0.1:9/ocpp', '--id-prefix', 'bad/'], /--id-prefix: charger id "bad\/00001" is not valid/],
  ])('simulate %j fails with a clear error', async (args, message) => {
    const { code, stderr } = await simulate(...args);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
  });
});
