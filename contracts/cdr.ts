import type { Decimal } from 'decimal.js';
import { money, Money, roundMoney } from './money.js';
import { elementChoice, energyThresholds, ocpiPrices, priceSession, tariffBoundaries, type SessionPeriod, type SessionPrice, type Tariff } from './tariff.js';

/**
 * A charging session's charge detail record (OCPI 2.2.1 CDR shape), built from what the charger
 * recorded: its energy register readings, its connector statuses, and the power and current it
 * measured. Pure: the CDR pricer (workflow-free, in the worker) and the tests call it with rows
 * read from the database. See docs/settlement.md ("Priced sessions").
 */

export interface RecordedSession {
  /** The session's id (a UUID): the CDR's id, and OCPI's session_id. */
  id: string;
  chargerId: string;
  connectorId: number;
  idTag: string | null;
  startedAt: Date;
  endedAt: Date;
  meterStartWh: Decimal | null;
  meterStopWh: Decimal | null;
}

export interface Reading {
  at: Date;
  value: Decimal;
}

export interface SessionRecordings {
  /** Energy.Active.Import.Register readings, Wh. */
  registers: Reading[];
  /** Connector statuses, including the last one before the session started. */
  statuses: { at: Date; status: string }[];
  /** Active power, kW. */
  power: Reading[];
  /** Current summed over phases, A. */
  current: Reading[];
}

/**
 * The session cut into charging periods: a new period at every reading and status change, at every
 * instant a tariff restriction may switch (time of day, date, weekday, duration, and — by linear
 * interpolation of the register — energy thresholds); a period charges when energy flowed in it or
 * the connector said Charging, else it is parked (connected, not charging). Consecutive periods that
 * charge alike and are priced by the same elements are merged, so a CDR holds the periods that matter.
 */
export function chargingPeriods(session: RecordedSession, recorded: SessionRecordings, tariff: Tariff | null, timeZone: string): SessionPeriod[] {
  const start = session.startedAt.getTime();
  const end = Math.max(start, session.endedAt.getTime());
  const register = registerCurve(session, recorded.registers, start, end);
  const at = (t: number) => registerAt(register, t);
  const cuts = new Set<number>([start, end]);
  for (const r of recorded.registers) cuts.add(r.at.getTime());
  for (const s of recorded.statuses) cuts.add(s.at.getTime());
  if (tariff) {
    for (const d of tariffBoundaries(tariff, session.startedAt, session.startedAt, new Date(end), timeZone)) cuts.add(d.getTime());
    for (const kwh of energyThresholds(tariff)) {
      const reached = instantOfEnergy(register, register[0]!.wh.plus(kwh.times(1000)));
      if (reached !== null) cuts.add(reached);
    }
  }
  const instants = [...cuts].filter((t) => t >= start && t <= end).sort((a, b) => a - b);
  const statuses = [...recorded.statuses].sort((a, b) => a.at.getTime() - b.at.getTime());
  const spans: [number, number][] = instants.length === 1 ? [[start, end]] : instants.slice(1).map((to, i) => [instants[i]!, to]);
  const raw: SessionPeriod[] = spans.map(([from, to]) => {
    const energyWh = at(to).minus(at(from));
    const status = statuses.filter((s) => s.at.getTime() <= from).at(-1)?.status;
    const charging = energyWh.gt(0) || status === 'Charging';
    const hours = money(to - from).div(3_600_000);
    const within = (readings: Reading[]) => readings.filter((r) => r.at.getTime() >= from && (r.at.getTime() < to || from === to)).map((r) => r.value);
    return {
      start: new Date(from),
      energyKwh: energyWh.div(1000),
      chargingHours: charging ? hours : money(0),
      parkingHours: charging ? money(0) : hours,
      ...extremes('Power', within(recorded.power)),
      ...extremes('Current', within(recorded.current)),
    };
  });
  return merge(raw, tariff, session.startedAt, timeZone);
}

function extremes<K extends 'Power' | 'Current'>(kind: K, values: Decimal[]) {
  if (values.length === 0) return {};
  const min = Money.min(...values);
  const max = Money.max(...values);
  return kind === 'Power' ? { minPower: min, maxPower: max } : { minCurrent: min, maxCurrent: max };
}

/** Consecutive periods that charge alike and that the same elements price become one (min of minima, max of maxima). */
function merge(periods: SessionPeriod[], tariff: Tariff | null, sessionStart: Date, timeZone: string): SessionPeriod[] {
  const merged: SessionPeriod[] = [];
  let energySoFar = money(0);
  let previousKey: string | null = null;
  for (const period of periods) {
    const charging = period.parkingHours.isZero();
    const key = `${charging}|${tariff ? elementChoice(tariff, sessionStart, period, energySoFar, timeZone) : ''}`;
    const last = merged.at(-1);
    if (last && key === previousKey) {
      merged[merged.length - 1] = {
        start: last.start,
        energyKwh: last.energyKwh.plus(period.energyKwh),
        chargingHours: last.chargingHours.plus(period.chargingHours),
        parkingHours: last.parkingHours.plus(period.parkingHours),
        ...combine(last.minPower, period.minPower, 'minPower', 'min'),
        ...combine(last.maxPower, period.maxPower, 'maxPower', 'max'),
        ...combine(last.minCurrent, period.minCurrent, 'minCurrent', 'min'),
        ...combine(last.maxCurrent, period.maxCurrent, 'maxCurrent', 'max'),
      };
    } else merged.push(period);
    previousKey = key;
    energySoFar = energySoFar.plus(period.energyKwh);
  }
  return merged;
}

function combine(a: Decimal | undefined, b: Decimal | undefined, name: string, pick: 'min' | 'max') {
  const value = a && b ? Money[pick](a, b) : (a ?? b);
  return value ? { [name]: value } : {};
}

interface RegisterPoint {
  t: number;
  wh: Decimal;
}

/** The energy register over the session: start reading, readings in between, stop reading; never decreasing. */
function registerCurve(session: RecordedSession, readings: Reading[], start: number, end: number): RegisterPoint[] {
  const points: RegisterPoint[] = readings
    .filter((r) => r.at.getTime() > start && r.at.getTime() < end)
    .map((r) => ({ t: r.at.getTime(), wh: r.value }))
    .sort((a, b) => a.t - b.t);
  const first = session.meterStartWh ?? points[0]?.wh ?? session.meterStopWh ?? money(0);
  const last = session.meterStopWh ?? points.at(-1)?.wh ?? first;
  const curve = [{ t: start, wh: first }, ...points, { t: end, wh: last }];
  // A register never runs backwards; a reading below an earlier one counts as no energy.
  let highest = curve[0]!.wh;
  return curve.map((p) => {
    if (p.wh.gt(highest)) highest = p.wh;
    return { t: p.t, wh: highest };
  });
}

function registerAt(curve: RegisterPoint[], t: number): Decimal {
  if (t <= curve[0]!.t) return curve[0]!.wh;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    if (t <= b.t) return b.t === a.t ? b.wh : a.wh.plus(b.wh.minus(a.wh).times(t - a.t).div(b.t - a.t));
  }
  return curve.at(-1)!.wh;
}

/** When the register first reaches `wh` (linear between readings), or null if it never does within the session. */
function instantOfEnergy(curve: RegisterPoint[], wh: Decimal): number | null {
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    if (b.wh.gte(wh) && a.wh.lt(wh)) return Math.ceil(a.t + wh.minus(a.wh).div(b.wh.minus(a.wh)).times(b.t - a.t).toNumber());
  }
  return null;
}

export interface Voucher {
  code: string;
  discountPercent: number;
}

export interface CdrContext {
  /** OCPI party of the CPO issuing the CDR (from the tariff, or the agreement's operator). */
  countryCode: string;
  partyId: string;
  currency: string;
  location: { id: string; name: string; address: string; timeZone: string };
  agreement: { id: string; version: number } | null;
  tariff: Tariff | null;
  voucher: Voucher | null;
  /** When the CDR is issued: its last_updated. */
  issuedAt: Date;
  /** The CDR's id (default: the session's). */
  cdrId?: string;
}

/** A priced session as an OCPI 2.2.1 CDR, with what Concierge adds under `concierge` (voucher, list price, agreement). */
export interface IssuedCdr {
  price: SessionPrice | null;
  /** OCPI's price fields before the voucher, each rounded once (null: no tariff, no cost). */
  prices: ReturnType<typeof ocpiPrices> | null;
  /** What the driver pays, after the voucher, rounded once: excl. and incl. VAT. */
  payable: { exclVat: Decimal; inclVat: Decimal };
  totals: { energyKwh: Decimal; hours: Decimal; parkingHours: Decimal };
  document: Record<string, unknown>;
}

/**
 * Prices a session and writes its CDR. A voucher's discount applies to the session's total (the
 * OCPI `total_cost` is what the driver pays; the dimension costs and `concierge.list_price` are
 * before the discount). No tariff in force: a CDR of no cost that says so.
 */
export function issueCdr(session: RecordedSession, periods: SessionPeriod[], context: CdrContext): IssuedCdr {
  const cdrId = context.cdrId ?? session.id;
  const { currency, tariff, voucher } = context;
  const price = tariff ? priceSession(tariff, { start: session.startedAt, periods }, context.location.timeZone) : null;
  const zero = money(0);
  const list = price ? ocpiPrices(price) : null;
  const factor = voucher ? money(100).minus(voucher.discountPercent).div(100) : money(1);
  const payable = {
    exclVat: roundMoney((price?.total.exclVat ?? zero).times(factor), currency),
    inclVat: roundMoney((price?.total.inclVat ?? zero).times(factor), currency),
  };
  const none = { excl_vat: roundMoney(zero, currency), incl_vat: roundMoney(zero, currency) };
  const totals = {
    energyKwh: periods.reduce((s, p) => s.plus(p.energyKwh), zero),
    hours: periods.reduce((s, p) => s.plus(p.chargingHours).plus(p.parkingHours), zero),
    parkingHours: periods.reduce((s, p) => s.plus(p.parkingHours), zero),
  };
  const document = {
    country_code: context.countryCode,
    party_id: context.partyId,
    id: cdrId,
    start_date_time: session.startedAt.toISOString(),
    end_date_time: session.endedAt.toISOString(),
    session_id: session.id,
    cdr_token: { country_code: context.countryCode, party_id: context.partyId, uid: session.idTag ?? 'UNKNOWN', type: 'RFID', contract_id: session.idTag ?? 'UNKNOWN' },
    auth_method: 'WHITELIST',
    cdr_location: {
      id: context.location.id,
      name: context.location.name,
      address: context.location.address,
      evse_uid: `${session.chargerId}*${session.connectorId}`,
      evse_id: `${session.chargerId}*${session.connectorId}`,
      connector_id: String(session.connectorId),
    },
    currency,
    tariffs: tariff ? [tariff] : [],
    charging_periods: periods.map((p) => ({
      start_date_time: p.start.toISOString(),
      dimensions: [
        { type: 'ENERGY', volume: p.energyKwh },
        ...(p.chargingHours.gt(0) ? [{ type: 'TIME', volume: p.chargingHours }] : []),
        ...(p.parkingHours.gt(0) ? [{ type: 'PARKING_TIME', volume: p.parkingHours }] : []),
        ...(p.minCurrent ? [{ type: 'MIN_CURRENT', volume: p.minCurrent }] : []),
        ...(p.maxCurrent ? [{ type: 'MAX_CURRENT', volume: p.maxCurrent }] : []),
        ...(p.minPower ? [{ type: 'MIN_POWER', volume: p.minPower }] : []),
        ...(p.maxPower ? [{ type: 'MAX_POWER', volume: p.maxPower }] : []),
      ],
      ...(tariff ? { tariff_id: tariff.id } : {}),
    })),
    total_cost: { excl_vat: payable.exclVat, incl_vat: payable.inclVat },
    total_fixed_cost: list?.total_fixed_cost ?? none,
    total_energy: totals.energyKwh,
    total_energy_cost: list?.total_energy_cost ?? none,
    total_time: totals.hours,
    total_time_cost: list?.total_time_cost ?? none,
    total_parking_time: totals.parkingHours,
    total_parking_cost: list?.total_parking_cost ?? none,
    ...(tariff ? {} : { remark: 'no driver tariff in force at the start of the session' }),
    ...(voucher ? { remark: `voucher ${voucher.code}: ${voucher.discountPercent}% off the total` } : {}),
    last_updated: context.issuedAt.toISOString(),
    concierge: {
      agreement: context.agreement,
      list_price: list?.total_cost ?? none,
      voucher: voucher ? { code: voucher.code, discount_percent: voucher.discountPercent } : null,
      bound: price?.bound ?? null,
    },
  };
  return { price, prices: list, payable, totals, document };
}
