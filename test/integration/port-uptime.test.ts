import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outagesFromStatuses, outsideOperatingHours } from '../../contracts/port-outages.js';
import { portsUptimeFromHistory, portUptimeFromHistory } from '../../agreements/uptime-report.js';
import greenmart from '../../contracts/agreements/greenmart-retail.js';
import { parseAgreement } from '../../contracts/agreement.js';
import { migrateToLatest, openDatabase } from '../../db/connect.js';

const at = (iso: string) => new Date(iso);
const period = { start: at('2026-05-01T00:00:00Z'), end: at('2026-06-01T00:00:00Z') };

describe('outages from the status history', () => {
  it('opens an outage at a down status and closes it at the next status that is not down', () => {
    const outages = outagesFromStatuses(
      [
        { status: 'Faulted', at: at('2026-04-30T22:00:00Z') }, // before the period: the period starts down
        { status: 'Faulted', at: at('2026-05-01T01:00:00Z') }, // a repeat does not split the outage
        { status: 'Available', at: at('2026-05-01T02:00:00Z') },
        { status: 'Charging', at: at('2026-05-03T10:00:00Z') },
        { status: 'Unavailable', at: at('2026-05-10T10:00:00Z') },
        { status: 'Faulted', at: at('2026-05-10T11:00:00Z') },
        { status: 'Available', at: at('2026-05-10T12:30:00Z') },
        { status: 'Faulted', at: at('2026-05-31T23:00:00Z') }, // still down at the end
      ],
      period,
    );
    expect(outages).toEqual([
      { start: at('2026-05-01T00:00:00Z'), end: at('2026-05-01T02:00:00Z'), cause: 'fault' },
      { start: at('2026-05-10T10:00:00Z'), end: at('2026-05-10T11:00:00Z'), cause: 'unknown' },
      { start: at('2026-05-10T11:00:00Z'), end: at('2026-05-10T12:30:00Z'), cause: 'fault' },
      { start: at('2026-05-31T23:00:00Z'), end: at('2026-06-01T00:00:00Z'), cause: 'fault' },
    ]);
  });

  it('finds the part of an outage outside operating hours', () => {
    const storeHours = { timeZone: 'Europe/London', weekly: { fri: [{ from: '07:00', to: '22:00' }], sat: [{ from: '07:00', to: '22:00' }] }, holidays: [] };
    // Fri 15 May 20:00 BST → Sat 16 May 09:00 BST: closed 22:00–07:00.
    const outside = outsideOperatingHours([{ start: at('2026-05-15T19:00:00Z'), end: at('2026-05-16T08:00:00Z'), cause: 'fault' }], storeHours);
    expect(outside).toEqual([{ start: at('2026-05-15T21:00:00Z'), end: at('2026-05-16T06:00:00Z'), cause: 'outside-operating-hours' }]);
  });
});

describe('concierge uptime', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-uptime-'));
    const db = openDatabase({ pgliteDir: path.join(dataDir, 'pglite') });
    await migrateToLatest(db);
    const report = (connectorId: number, status: string, reportedAt: string) => ({ chargerId: 'GM-LDS-01', connectorId, status, errorCode: null, vendorErrorCode: null, info: null, reportedAt, protocol: 'ocpp1.6', payload: '{}' });
    await db
      .insertInto('statusLog')
      .values([
        report(1, 'Available', '2026-04-20T10:00:00Z'),
        // 3 h down inside store hours (Tue 5 May 10:00–13:00 BST).
        report(1, 'Faulted', '2026-05-05T09:00:00Z'),
        report(1, 'Available', '2026-05-05T12:00:00Z'),
        // The whole charger down overnight Fri 15 May 20:00 → Sat 16 May 09:00 BST: 13 h, of which 9 h closed.
        report(0, 'Faulted', '2026-05-15T19:00:00Z'),
        report(0, 'Available', '2026-05-16T08:00:00Z'),
        // Another connector's fault does not count for connector 1.
        report(2, 'Faulted', '2026-05-20T10:00:00Z'),
      ])
      .execute();
    await db.destroy();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("computes a port's NEVI uptime from the status log, excluding hours the site is closed", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bin/concierge.ts', 'uptime', '--agreement', 'greenmart-retail', '--charger', 'GM-LDS-01', '--connector', '1', '--from', '2026-05-01T00:00:00+01:00', '--to', '2026-06-01T00:00:00+01:00'],
      { cwd: path.resolve(import.meta.dirname, '../..'), env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' } },
    );
    // 31 days = 44,640 min; outage 3 h + 13 h = 960 min; excluded 9 h = 540 min; (44640 − 420) / 44640.
    expect(JSON.parse(stdout)).toEqual({
      periodMinutes: 44640,
      outageMinutes: 960,
      excludedMinutes: 540,
      uptimePercent: 99.06,
      measuredUntil: '2026-05-31T23:00:00.000Z',
      // Each outage traced: no incident covered these, and a fault is not an excluded cause (its closed hours are, above).
      outages: [
        { start: '2026-05-05T09:00:00.000Z', end: '2026-05-05T12:00:00.000Z', cause: 'fault', incidentId: null, excluded: false, overCap: false },
        { start: '2026-05-15T19:00:00.000Z', end: '2026-05-16T08:00:00.000Z', cause: 'fault', incidentId: null, excluded: false, overCap: false },
      ],
    });
  });

  it('measures only the part of the period already past: a fault still open is an outage until now, not until the period’s end', async () => {
    const HOUR = 3_600_000;
    const now = Date.now();
    const db = openDatabase({ pgliteDir: path.join(dataDir, 'pglite') });
    const iso = (ms: number) => new Date(ms).toISOString();
    try {
      await db
        .insertInto('statusLog')
        .values(['Available', 'Faulted'].map((status, i) => ({ chargerId: 'GM-LDS-02', connectorId: 1, status, errorCode: null, vendorErrorCode: null, info: null, reportedAt: iso(now - (5 - 3 * i) * HOUR), protocol: 'ocpp1.6', payload: '{}' })))
        .execute();
    } finally {
      await db.destroy();
    }
    const run = (from: number, to: number) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'uptime', '--agreement', 'greenmart-retail', '--charger', 'GM-LDS-02', '--connector', '1', '--from', iso(from), '--to', iso(to)], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' },
      });
    // Asked: 4 h ago to 4 h from now, the store open around the clock or not: down since 2 h ago.
    const result = JSON.parse((await run(now - 4 * HOUR, now + 4 * HOUR)).stdout) as { periodMinutes: number; outageMinutes: number; measuredUntil: string };
    expect(Date.parse(result.measuredUntil)).toBeGreaterThanOrEqual(now);
    expect(Date.parse(result.measuredUntil)).toBeLessThan(now + 4 * HOUR);
    const elapsed = (Date.parse(result.measuredUntil) - now) / 60_000;
    expect(Math.abs(result.periodMinutes - (240 + elapsed))).toBeLessThanOrEqual(1);
    expect(Math.abs(result.outageMinutes - (120 + elapsed))).toBeLessThanOrEqual(1);
    const notYet = await run(now + HOUR, now + 2 * HOUR).catch((error: { code: number; stderr: string }) => error);
    expect(notYet).toMatchObject({ code: 1, stderr: expect.stringContaining('has not come yet') });
  });

  it('measures all the ports of an agreement together exactly as it measures each alone', async () => {
    const agreement = parseAgreement(greenmart).agreement!;
    const db = openDatabase({ pgliteDir: path.join(dataDir, 'pglite') });
    try {
      const report = (chargerId: string, connectorId: number, status: string, reportedAt: string) => ({ chargerId, connectorId, status, errorCode: null, vendorErrorCode: null, info: null, reportedAt, protocol: 'ocpp1.6', payload: '{}' });
      await db
        .insertInto('statusLog')
        .values([
          // GM-LDS-03 went into May faulted on connector 2; connector 1 faults on the 12th; the charger on the 22nd.
          report('GM-LDS-03', 2, 'Faulted', '2026-04-29T08:00:00Z'),
          report('GM-LDS-03', 2, 'Available', '2026-05-02T09:30:00Z'),
          report('GM-LDS-03', 1, 'Faulted', '2026-05-12T14:00:00Z'),
          report('GM-LDS-03', 1, 'Available', '2026-05-12T18:45:00Z'),
          report('GM-LDS-03', 0, 'Unavailable', '2026-05-22T06:00:00Z'),
          report('GM-LDS-03', 0, 'Available', '2026-05-22T07:00:00Z'),
        ])
        .execute();
      // GM-LDS-02 away for 2 h (past the 10-minute grace) on the 8th, and away since before May on another count.
      await db
        .insertInto('chargerEvents')
        .values([
          { chargerId: 'GM-LDS-02', connectorId: null, kind: 'disconnected', at: '2026-05-08T10:00:00Z', data: '{}' },
          { chargerId: 'GM-LDS-02', connectorId: null, kind: 'connected', at: '2026-05-08T12:00:00Z', data: '{}' },
          { chargerId: 'GM-LDS-01', connectorId: null, kind: 'disconnected', at: '2026-04-30T23:00:00Z', data: '{}' },
          { chargerId: 'GM-LDS-01', connectorId: null, kind: 'connected', at: '2026-05-01T01:00:00Z', data: '{}' },
        ])
        .execute();
      const ports = agreement.sites.flatMap((site) => site.chargers.flatMap((c) => Array.from({ length: c.connectors }, (_, i) => ({ chargerId: c.id, connectorId: i + 1 }))));
      const may = { start: at('2026-04-30T23:00:00Z'), end: at('2026-05-31T23:00:00Z') };
      const now = at('2026-06-02T00:00:00Z');
      const together = await portsUptimeFromHistory(db, agreement, ports, may, now);
      const alone = await Promise.all(ports.map((p) => portUptimeFromHistory(db, agreement, p.chargerId, p.connectorId, may, now)));
      expect(together).toEqual(alone);
      // Each of the histories above shows in its own port, and only there.
      const outages: Record<string, number> = { 'GM-LDS-01/1': 3, 'GM-LDS-02/1': 1, 'GM-LDS-03/1': 2, 'GM-LDS-03/2': 2 };
      expect(together.map((u) => u.outages.length)).toEqual(ports.map((p) => outages[`${p.chargerId}/${p.connectorId}`] ?? 0));
    } finally {
      await db.destroy();
    }
  });
});
