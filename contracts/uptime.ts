/**
 * Port uptime as NEVI defines it (23 CFR 680.116(b)). Pure and deterministic, for workflows and
 * reports alike. Time is counted in whole milliseconds, so every sum is exact; minutes are
 * milliseconds / 60 000 and are only rounded for the result.
 */

export type OutageCause =
  | 'fault'
  | 'offline'
  | 'utility'
  | 'vandalism'
  | 'scheduled-maintenance'
  | 'vehicle'
  | 'natural-disaster'
  | 'outside-operating-hours'
  | 'unknown';
export interface Outage {
  start: Date;
  end: Date;
  cause: OutageCause;
  /** The incident that covered it, when one did (its root cause decided `cause`). */
  incidentId?: string;
  /** Beyond the agreement's cap for its cause: counted as outage although the cause is excluded. */
  overCap?: boolean;
}
export interface UptimeResult {
  periodMinutes: number;
  outageMinutes: number;
  excludedMinutes: number;
  uptimePercent: number;
}

/** A half-open range [start, end) of epoch milliseconds. */
interface Range {
  start: number;
  end: number;
}

/** NEVI: uptime % = (T − (T_outage − T_excluded)) / T × 100 over one port's period; outages are clipped to the period and unioned, T_excluded is the union of outage time with an excluded cause; minutes are rounded to 3 decimals and the percentage to 2, half up, each from the unrounded values. */
export function portUptime(outages: Outage[], period: { start: Date; end: Date }, excludedCauses: readonly OutageCause[]): UptimeResult {
  const periodStart = epochMs(period.start, 'period.start');
  const periodEnd = epochMs(period.end, 'period.end');
  if (periodEnd <= periodStart) throw new RangeError(`the uptime period must have a positive length: ${period.start.toISOString()} to ${period.end.toISOString()}`);
  const excluded = new Set<OutageCause>(excludedCauses);
  const down: Range[] = [];
  const excusedDown: Range[] = [];
  outages.forEach((outage, i) => {
    const start = epochMs(outage.start, `outages[${i}].start`);
    const end = epochMs(outage.end, `outages[${i}].end`);
    if (end < start) throw new RangeError(`outages[${i}] (${outage.cause}) ends before it starts: ${outage.start.toISOString()} > ${outage.end.toISOString()}`);
    const clipped = { start: Math.max(start, periodStart), end: Math.min(end, periodEnd) };
    if (clipped.end <= clipped.start) return;
    down.push(clipped);
    if (excluded.has(outage.cause) && !outage.overCap) excusedDown.push(clipped);
  });
  const periodMs = periodEnd - periodStart;
  const outageMs = unionLength(down);
  // A subset of `down`, so never more than outageMs: a minute any excluded outage covers is excused, whatever else was wrong then.
  const excludedMs = unionLength(excusedDown);
  return {
    periodMinutes: minutesRounded(periodMs),
    outageMinutes: minutesRounded(outageMs),
    excludedMinutes: minutesRounded(excludedMs),
    uptimePercent: percentRounded(periodMs - (outageMs - excludedMs), periodMs),
  };
}

/** Milliseconds covered by at least one range. */
function unionLength(ranges: Range[]): number {
  let total = 0;
  let reach = -Infinity;
  for (const { start, end } of [...ranges].sort((a, b) => a.start - b.start)) {
    if (end <= reach) continue;
    total += end - Math.max(start, reach);
    reach = end;
  }
  return total;
}

/** ms as minutes to 3 decimals, half up: floor((ms + 30) / 60) thousandths; whole ms and one correctly rounded division keep ties exact. */
function minutesRounded(ms: number): number {
  return Math.floor((ms + 30) / 60) / 1000;
}

/** part / whole × 100 to 2 decimals, half up, in integers so that no tie is lost to binary fractions. */
function percentRounded(partMs: number, wholeMs: number): number {
  const part = BigInt(partMs);
  const whole = BigInt(wholeMs);
  const hundredths = (part * 20_000n + whole) / (2n * whole);
  return Number(hundredths) / 100;
}

function epochMs(value: Date, name: string): number {
  // Duck-typed rather than instanceof: a Date may come from another realm (the workflow sandbox).
  const ms = typeof (value as Partial<Date> | null)?.getTime === 'function' ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`${name} must be a valid Date`);
  return ms;
}
