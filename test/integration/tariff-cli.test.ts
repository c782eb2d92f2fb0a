import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'concierge-tariff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const at = path.join(dir, name);
  writeFileSync(at, typeof content === 'string' ? content : JSON.stringify(content));
  return at;
}

async function tariffPrice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'tariff', 'price', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return error as { code: number; stdout: string; stderr: string };
  }
}

// OCPI 2.2.1 examples/tariff_4_complex.json, and a CDR of the spec's Saturday session: 13:30 local,
// 114 minutes at 43 A, then 71 minutes parked.
const complex = {
  country_code: 'DE',
  party_id: 'ALL',
  id: '14',
  currency: 'EUR',
  type: 'REGULAR',
  elements: [
    { price_components: [{ type: 'FLAT', price: 2.5, vat: 15.0, step_size: 1 }] },
    { price_components: [{ type: 'TIME', price: 1.0, vat: 20.0, step_size: 900 }], restrictions: { max_current: 32.0 } },
    { price_components: [{ type: 'TIME', price: 2.0, vat: 20.0, step_size: 600 }], restrictions: { min_current: 32.0, day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] } },
    { price_components: [{ type: 'TIME', price: 1.25, vat: 20.0, step_size: 600 }], restrictions: { min_current: 32.0, day_of_week: ['SATURDAY', 'SUNDAY'] } },
    { price_components: [{ type: 'PARKING_TIME', price: 5.0, vat: 10.0, step_size: 300 }], restrictions: { start_time: '09:00', end_time: '18:00', day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] } },
    { price_components: [{ type: 'PARKING_TIME', price: 6.0, vat: 10.0, step_size: 300 }], restrictions: { start_time: '10:00', end_time: '17:00', day_of_week: ['SATURDAY'] } },
  ],
  last_updated: '2015-06-29T20:39:09Z',
};
const saturday = {
  id: 'CDR-SAT',
  start_date_time: '2026-05-09T11:30:00Z',
  end_date_time: '2026-05-09T14:35:00Z',
  charging_periods: [
    { start_date_time: '2026-05-09T11:30:00Z', dimensions: [{ type: 'ENERGY', volume: 50 }, { type: 'TIME', volume: 1.9 }, { type: 'MIN_CURRENT', volume: 43 }, { type: 'MAX_CURRENT', volume: 43 }], tariff_id: '14' },
    { start_date_time: '2026-05-09T13:24:00Z', dimensions: [{ type: 'PARKING_TIME', volume: 1.1833 }], tariff_id: '14' },
  ],
};

describe('concierge tariff price', () => {
  it('re-prices an OCPI CDR under an OCPI tariff and prints OCPI’s price fields, each rounded once to minor units', async () => {
    const { code, stdout } = await tariffPrice('--tariff', file('complex.json', complex), '--cdr', file('saturday.json', saturday), '--time-zone', 'Europe/Berlin');
    expect(code).toBe(0);
    // 2.50 flat; 1.9 h × 1.25 = 2.375; 1.1833 h parked → 75 minutes in 5-minute steps × 6.00 = 7.50.
    expect(JSON.parse(stdout)).toEqual({
      tariff_id: '14',
      currency: 'EUR',
      total_cost: { excl_vat: 12.38, incl_vat: 13.98 },
      total_fixed_cost: { excl_vat: 2.5, incl_vat: 2.88 },
      total_energy: 50,
      total_energy_cost: { excl_vat: 0, incl_vat: 0 },
      total_time: 3.0833,
      total_time_cost: { excl_vat: 2.38, incl_vat: 2.85 },
      total_parking_time: 1.1833,
      total_parking_cost: { excl_vat: 7.5, incl_vat: 8.25 },
    });
    expect(stdout).toContain('"excl_vat": 12.38,');
    expect(stdout).toContain('"excl_vat": 7.50,');
  });

  it('names the file and each field it refuses, and exits 1', async () => {
    const badTariff = file('bad-tariff.json', { ...complex, currency: 'EURO', elements: [{ price_components: [{ type: 'ENERGY', price: -1, step_size: 1 }] }] });
    const refused = await tariffPrice('--tariff', badTariff, '--cdr', file('ok.json', saturday));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${badTariff}: currency: expected an ISO 4217 currency code`);
    expect(refused.stderr).toContain(`${badTariff}: elements.0.price_components.0.price: expected 0 or more`);
    const notJson = await tariffPrice('--tariff', file('t.json', complex), '--cdr', file('broken.json', '{"start_date_time":'));
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('broken.json: ');
    const zone = await tariffPrice('--tariff', file('t2.json', complex), '--cdr', file('ok2.json', saturday), '--time-zone', 'Mars/Olympus');
    expect(zone.stderr).toContain('--time-zone: expected an IANA time zone');
  });
});
