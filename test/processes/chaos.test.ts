import { describe, expect, inject, it } from 'vitest';
import { describeChaos, runChaos } from '../../bench/chaos.js';

/**
 * The chaos run in small (`npm run chaos` is the full one: 100 incidents, five kills): the process
 * killed with -9 three times while ten incidents are driven through their steps over the API, on
 * the embedded database; then nothing a charger or a client was answered for is lost or doubled.
 */
describe('kill -9 while incidents are driven', () => {
  it('keeps every answered fault and 2xx step exactly once, one incident per connector, and every SLA clock where it was', { timeout: 300_000 }, async () => {
    const report = await runChaos({ incidents: 10, kills: 3, seed: 7, concurrency: 5, split: false, temporalAddress: inject('temporalAddress'), log: () => undefined });
    const summary = describeChaos(report);
    expect(report.kills, summary).toHaveLength(3);
    expect(report.problems, summary).toEqual([]);
    // Every incident: its opening fault answered (re-reported if the server died first), six steps answered 2xx.
    expect(report.faults.presentOnce, summary).toBe(report.faults.answered);
    expect(report.faults.answered, summary).toBeGreaterThanOrEqual(20);
    expect(report.steps, summary).toMatchObject({ answered2xx: 60, recordedOnce: 60, missing: 0, duplicated: 0 });
    expect(report.incidentsPerConnector, summary).toEqual({ one: 10, none: 0, several: 0 });
    expect(report.deadlines, summary).toEqual({ checked: 10, moved: 0 });
  });
});
