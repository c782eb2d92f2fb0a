import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

async function concierge(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const deadlines = (agreement: string, priority: string, opened: string) => concierge('sla', 'deadlines', '--agreement', agreement, '--priority', priority, '--opened', opened);

/** Expected instants worked out by hand from each agreement's calendar; see the comment of each row. */
describe('concierge sla deadlines', () => {
  it.each([
    // Hotel Alpina P2 (2 h / 24 h, Mon–Fri 07–19, Sat 08–14, Vienna). Fri 27 Mar 18:30 CET: 0.5 h Fri,
    // then Sat. Fix: 0.5 Fri + 6 Sat + Sun closed (DST begins) + 12 Mon (CEST) + 5.5 Tue → Tue 12:30 CEST.
    ['hotel-alpina', 'P2', '2026-03-27T17:30:00Z', '2026-03-28T08:30:00.000Z', '2026-03-31T10:30:00.000Z'],
    // Easter: Sat 4 Apr 13:00 CEST: 1 h Sat, Sun closed, Easter Monday a holiday → Tue 07:00 + 1 h.
    // Fix: 1 Sat + 12 Tue + 11 Wed → Wed 18:00 CEST.
    ['hotel-alpina', 'P2', '2026-04-04T11:00:00Z', '2026-04-07T06:00:00.000Z', '2026-04-08T16:00:00.000Z'],
    // GreenMart P2 (2 h / 2 d on store hours, London). Sat 24 Oct 21:30 BST: 0.5 h Sat, Sun 25 Oct
    // (GMT from 02:00) 10:00 + 1.5 h. Fix 48 h: 0.5 + 6 Sun + 15 Mon + 15 Tue + 11.5 Wed → Wed 18:30 GMT.
    ['greenmart-retail', 'P2', '2026-10-24T20:30:00Z', '2026-10-25T11:30:00.000Z', '2026-10-28T18:30:00.000Z'],
    // Harbour P1 on 24/7 across New York's spring-forward: plain elapsed time.
    ['harbour-estates', 'P1', '2026-03-08T06:30:00Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    // Harbour P2 (2 h / 48 h on field shifts incl. a 22:00–06:00 night shift, Thanksgiving a holiday).
    // Wed 25 Nov 16:00 EST: 1 h day shift, then the Wed night shift from 22:00 → 23:00.
    // Fix: 1 + 8 Wed night + Thu (holiday: day and night shift skipped) + 8 Fri + 16 Mon + 8 Tue day
    // + 7 of Tue night → Wed 2 Dec 05:00 EST.
    ['harbour-estates', 'P2', '2026-11-25T21:00:00Z', '2026-11-26T04:00:00.000Z', '2026-12-02T10:00:00.000Z'],
  ])('%s %s opened %s → respondBy %s, fixBy %s', async (agreement, priority, opened, respondBy, fixBy) => {
    const result = await deadlines(agreement, priority, opened);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ respondBy, fixBy });
    expect(result.code).toBe(0);
  });

  it('refuses bad input with a clear message and exit 1', async () => {
    const [noOffset, unknown, badPriority] = await Promise.all([
      deadlines('hotel-alpina', 'P2', '2026-03-27 17:30'),
      deadlines('no-such-agreement', 'P2', '2026-03-27T17:30:00Z'),
      deadlines('hotel-alpina', 'P9', '2026-03-27T17:30:00Z'),
    ]);
    expect(noOffset).toMatchObject({ code: 1, stdout: '' });
    expect(noOffset.stderr).toContain('--opened: expected an ISO-8601 instant with offset');
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toContain('no agreement "no-such-agreement"; known: greenmart-retail, harbour-estates, hotel-alpina');
    expect(badPriority).toMatchObject({ code: 1 });
    expect(badPriority.stderr).toContain("Allowed choices are P1, P2, P3, P4");
  });
});
