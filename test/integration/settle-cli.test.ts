import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgreements } from '../../agreements/load.js';
import { syncAgreements } from '../../agreements/store.js';
import { migrateToLatest, openDatabase } from '../../db/connect.js';
import { freePort } from '../../testkit/ports.js';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * `concierge settle --dry-run` on an embedded database: it prices the month's sessions first, then
 * prints the statement. GreenMart, Tuesday 5 May 2026 10:00–11:00 London, 20 kWh on a weekday:
 *   0.30 session fee + 20 × 0.69 = 14.10 excl. VAT, × 1.2 = 16.92 paid.
 *   Share 15 % × (14.10 − 1.9 % × 16.92 = 0.32148) = 2.066778 → 2.07, VAT 0.4133… → 0.41.
 *   Energy pass-through 20 × 0.24 = 4.80, VAT 0.96. No service fee (0.00), so no credit (capped at 100 % of it).
 *   PlugCo pays GreenMart 2.48 + 5.76 = 8.24.
 */
describe('concierge settle --dry-run', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-settle-'));
    const db = openDatabase({ pgliteDir: path.join(dataDir, 'pglite') });
    try {
      await migrateToLatest(db);
      const { agreements } = await loadAgreements();
      await syncAgreements(db, agreements, new Date('2026-04-01T00:00:00Z'));
      await db
        .insertInto('chargers')
        .values({ id: 'GM-LDS-01', passwordHash: 'x', siteId: 'greenmart-leeds', vendor: null, model: null, serialNumber: null, firmwareVersion: null, protocol: null, gatewayNode: null, connectedAt: null, lastSeenAt: null, bootedAt: null, state: 'active' })
        .execute();
      await db
        .insertInto('sessions')
        .values({ chargerId: 'GM-LDS-01', connectorId: 1, transactionId: '1', idTag: 'CARD-1', status: 'ended', startedAt: '2026-05-05T09:00:00Z', endedAt: '2026-05-05T10:00:00Z', meterStartWh: '0', meterLastWh: '20000', meterStopWh: '20000', protocol: 'ocpp1.6' })
        .execute();
    } finally {
      await db.destroy();
    }
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const settle = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'settle', ...args], { cwd: root, env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' } }).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('prices the month’s sessions and prints the statement, to the cent', async () => {
    const { stdout } = (await settle('--agreement', 'greenmart-retail', '--month', '2026-05', '--dry-run')) as { stdout: string };
    const statement = JSON.parse(stdout) as { lines: { kind: string; net: number; vat: number; payer: string; payee: string }[]; due: { amount: number; payer: string; payee: string } };
    const line = (kind: string) => statement.lines.filter((l) => l.kind === kind).map((l) => [l.net, l.vat, l.payer, l.payee]);
    expect(line('sessions')).toEqual([[14.1, 2.82, 'drivers', 'plugco']]);
    expect(line('revenue-share')).toEqual([[2.07, 0.41, 'plugco', 'greenmart']]);
    expect(line('energy-pass-through')).toEqual([[4.8, 0.96, 'plugco', 'greenmart']]);
    expect(line('service-fee')).toEqual([]);
    expect(statement.due).toEqual({ amount: 8.24, payer: 'plugco', payee: 'greenmart' });
    expect(stdout).toContain('"amount": 8.24');
  });

  it('refuses a month not begun, a malformed month, and issuing with no Temporal to reach, each saying why', async () => {
    expect(await settle('--agreement', 'greenmart-retail', '--month', '2099-01', '--dry-run')).toMatchObject({ code: 1, stderr: expect.stringContaining('has not begun') });
    expect(await settle('--agreement', 'greenmart-retail', '--month', '2026-13', '--dry-run')).toMatchObject({ code: 1, stderr: expect.stringContaining('--month: expected a month as yyyy-mm') });
    // Issuing is the running Concierge's settlement workflow: without a Temporal server to reach, the CLI says so.
    const unreachable = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'settle', '--agreement', 'greenmart-retail', '--month', '2026-05'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(unreachable).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot reach Temporal at 127.0.0.1:') });
  });
});
