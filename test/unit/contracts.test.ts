import { describe, expect, it } from 'vitest';
import { assessConnectorStatus } from '../../contracts/faults.js';
import { slaDeadlines } from '../../contracts/sla.js';
import { ConfigError, loadConfig } from '../../runtime/config.js';

describe('assessConnectorStatus', () => {
  it.each([
    [1, 'Faulted', 'GroundFailure', 'P2'],
    [0, 'Faulted', 'InternalError', 'P1'],
    [1, 'Faulted', null, 'P2'],
    [1, 'Available', 'HighTemperature', 'P3'],
    [1, 'Charging', 'EVCommunicationError', null],
    [1, 'Available', 'NoError', null],
    [2, 'Unavailable', null, null],
  ])('connector %i %s %s → %s', (connectorId, status, errorCode, priority) => {
    expect(assessConnectorStatus(connectorId, status, errorCode)?.priority ?? null).toBe(priority);
  });
});

describe('slaDeadlines', () => {
  it('adds the response and fix targets to the opening time', () => {
    const { respondBy, fixBy } = slaDeadlines(new Date('2026-03-29T00:30:00Z'), { respondWithinMs: 3_600_000, fixWithinMs: 8 * 3_600_000 });
    expect(respondBy.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(fixBy.toISOString()).toBe('2026-03-29T08:30:00.000Z');
  });
});

describe('loadConfig', () => {
  it('has embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, temporal: { address: undefined, namespace: 'default', devServer: { port: 7233, uiPort: 8233 } } });
    expect(config.database).toEqual({ pgliteDir: expect.stringMatching(/data\/pglite$/) });
    expect(config.incidentSla).toEqual({ respondWithinMs: 3_600_000, fixWithinMs: 8 * 3_600_000 });
  });

  it('uses PostgreSQL and an external Temporal when told to', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://x@db/concierge', TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(config.database).toEqual({ url: 'postgres://x@db/concierge' });
    expect(config.temporal.address).toBe('temporal:7233');
  });

  it('treats a variable set to the empty string as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' })).toMatchObject({ port: 8080, database: { pgliteDir: expect.any(String) } });
  });

  it('reports every invalid variable at once, by name', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', INCIDENT_FIX_WITHIN: 'soon', CONCIERGE_ADMIN_TOKEN: 'short' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT:[\s\S]*CONCIERGE_ADMIN_TOKEN: must be at least 16 characters[\s\S]*INCIDENT_FIX_WITHIN: expected a positive duration/);
  });
});
