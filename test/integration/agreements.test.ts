import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineAgreement, parseAgreement } from '../../contracts/agreement.js';
import hotel from '../../contracts/agreements/hotel-alpina.js';
import { formatProblems, loadAgreements } from '../../agreements/load.js';

const root = path.resolve(import.meta.dirname, '../..');
const brokenDir = path.join(root, 'test/fixtures/broken-agreements');

describe('agreements', () => {
  it('ships three valid agreements with different service models', async () => {
    const { agreements, problems } = await loadAgreements();
    expect(problems).toEqual([]);
    expect(agreements.map((a) => [a.id, a.serviceModel])).toEqual([
      ['greenmart-retail', 'cpo-operated'],
      ['harbour-estates', 'managed-service'],
      ['hotel-alpina', 'turnkey-om'],
    ]);
  });

  it('reports every problem of a broken agreement at once, by file and field path, with what was found', async () => {
    const { agreements, problems } = await loadAgreements(brokenDir);
    const broken = problems.filter((p) => p.file.endsWith('broken-hotel.ts'));
    expect(broken.map((p) => p.path).sort()).toEqual(
      [
        'colour',
        'pricing.currency',
        'pricing.serviceFeePerChargerMonthly',
        'serviceModel',
        'settlement.recipients.0',
        'sites.0.timeZone',
        'sla.targets.P2.respondWithin',
      ].sort(),
    );
    expect(broken.find((p) => p.path === 'sites.0.timeZone')).toMatchObject({ message: 'expected an IANA time zone such as "Europe/London"', found: 'Mars/Olympus' });
    expect(broken.find((p) => p.path === 'pricing.serviceFeePerChargerMonthly')).toMatchObject({ found: 39.5 });
    expect(broken.find((p) => p.path === 'colour')).toMatchObject({ message: 'unknown field: not a term of the agreement model', found: 'blue' });
    expect(formatProblems(broken)).toContain('test/fixtures/broken-agreements/broken-hotel.ts: sla.targets.P2.respondWithin: expected a duration such as "30m", "4h" or "2d"; found "fast"');
    // Files load in name order: same-id.ts is valid and loads; valid-first.ts, a copy, is refused for its id.
    expect(agreements.map((a) => a.id)).toEqual(['hotel-alpina']);
    expect(problems.filter((p) => p.file.endsWith('valid-first.ts'))).toEqual([
      expect.objectContaining({ path: 'id', message: expect.stringContaining('same-id.ts uses it') }),
    ]);
  });

  it('checks references between fields once the shape is right', () => {
    const result = parseAgreement({
      ...hotel,
      ownership: { ...hotel.ownership, installer: 'nobody' },
      sla: { ...hotel.sla, targets: { ...hotel.sla.targets, P2: { respondWithin: '2h', fixWithin: '1h', calendar: 'weekdays' } } },
      escalation: [hotel.escalation[1]],
    });
    expect(result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'ownership.installer: expected one of the parties (alpina, voltwerk, chargeops)',
      'sla.targets.P2.calendar: expected one of the calendars (always, service-hours)',
      'sla.targets.P2.fixWithin: expected at least the response time (2h)',
      'escalation.0.level: expected level 1 here: levels are numbered in order from 1',
    ]);
  });

  it("applies the calendar helper's own rules to every calendar", () => {
    const result = parseAgreement({ ...hotel, calendars: { ...hotel.calendars, night: { weekly: { mon: [{ from: '24:00', to: '06:00' }] } } } });
    expect(result.problems).toEqual([expect.objectContaining({ path: 'calendars.night', message: expect.stringContaining('24:00') })]);
  });

  it('is checked by the compiler', () => {
    // @ts-expect-error an unknown service model
    defineAgreement({ ...hotel, serviceModel: 'leasing' });
    // @ts-expect-error an unknown field
    defineAgreement({ ...hotel, colour: 'blue' });
    // @ts-expect-error a number where a decimal string is required
    defineAgreement({ ...hotel, pricing: { ...hotel.pricing, vatPercent: '20' } });
    expect(true).toBe(true);
  });

  it('`concierge contracts check` exits 1 listing the problems, 0 when all agreements are valid', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'contracts', 'check', ...args], { cwd: root, encoding: 'utf8' });
    const bad = run('--dir', brokenDir);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('broken-hotel.ts: sites.0.timeZone: expected an IANA time zone such as "Europe/London"; found "Mars/Olympus"');
    expect(bad.stderr).toMatch(/\n8 problems found/);
    const good = run();
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('3 agreements valid');
  });
});
