import { describe, expect, it } from 'vitest';
import { absenceCountsFrom, countsAsOffline, type ConnectionFacts } from '../../contracts/connectivity.js';

const GRACE = 10 * 60_000;
const at = (iso: string) => new Date(iso);
const away = (facts: Partial<ConnectionFacts>): ConnectionFacts => ({ connected: false, disconnectedByGateway: false, gatewayBackAt: null, lastSeenAt: at('2026-12-02T10:00:00Z'), ...facts });

describe('when a charger’s absence counts', () => {
  it('from its disconnect when it went away by itself, and it counts as offline for the site at once', () => {
    expect(absenceCountsFrom(away({}), GRACE)).toEqual(at('2026-12-02T10:00:00Z'));
    expect(countsAsOffline(away({}), at('2026-12-02T10:00:01Z'), GRACE)).toBe(true);
  });

  it('from when a gateway was back when Concierge disconnected it, and for the site only a grace period after that', () => {
    const restarted = away({ disconnectedByGateway: true, gatewayBackAt: at('2026-12-02T10:30:00Z') });
    expect(absenceCountsFrom(restarted, GRACE)).toEqual(at('2026-12-02T10:30:00Z'));
    expect(countsAsOffline(restarted, at('2026-12-02T10:39:59Z'), GRACE)).toBe(false);
    expect(countsAsOffline(restarted, at('2026-12-02T10:40:00Z'), GRACE)).toBe(true);
  });

  it('from one grace period after the disconnect when no gateway came back for it', () => {
    const stranded = away({ disconnectedByGateway: true });
    expect(absenceCountsFrom(stranded, GRACE)).toEqual(at('2026-12-02T10:10:00Z'));
    expect(countsAsOffline(stranded, at('2026-12-02T10:19:59Z'), GRACE)).toBe(false);
    expect(countsAsOffline(stranded, at('2026-12-02T10:20:00Z'), GRACE)).toBe(true);
  });

  it('never while connected', () => {
    expect(absenceCountsFrom({ ...away({}), connected: true }, GRACE)).toBeNull();
    expect(countsAsOffline({ ...away({ disconnectedByGateway: true }), connected: true }, at('2026-12-03T00:00:00Z'), GRACE)).toBe(false);
  });
});
