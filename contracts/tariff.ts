import type { Decimal } from 'decimal.js';
import { z } from 'zod';
import { localMoment, minuteOfDay, nextLocalDate, wallClock, type LocalMoment } from './calendar.js';
import { isCurrency, minorUnits, money, Money, roundMoney } from './money.js';

/**
 * Driver tariffs as OCPI 2.2.1 Tariff objects, and the pricing of a charging session under one, the
 * way the spec (mod_tariffs, mod_cdrs "step_size") says — with the choices where it is silent or
 * contradicts itself written down in docs/settlement.md ("Tariff rules"). Pure: the CDR builder,
 * the settlement and `concierge tariff price` all price with `priceSession`.
 */

export const TARIFF_DIMENSIONS = ['ENERGY', 'FLAT', 'TIME', 'PARKING_TIME'] as const;
export type TariffDimension = (typeof TARIFF_DIMENSIONS)[number];
export const DAYS_OF_WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export const TARIFF_TYPES = ['AD_HOC_PAYMENT', 'PROFILE_CHEAP', 'PROFILE_FAST', 'PROFILE_GREEN', 'REGULAR'] as const;

/** OCPI numbers carry at most 4 decimals. */
const amount = z
  .number({ error: 'expected a number' })
  .nonnegative('expected 0 or more')
  .refine((n) => /^\d+(\.\d{1,4})?$/.test(String(n)), 'expected a number with at most 4 decimals');
const localTime = z.string({ error: 'expected a local time HH:MM' }).regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM (00:00–23:59)');
const localDate = z.iso.date({ error: 'expected a date YYYY-MM-DD' });
const instant = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date and time, e.g. 2026-05-01T00:00:00Z' });
const seconds = z.number({ error: 'expected a whole number of seconds' }).int('expected a whole number of seconds').nonnegative('expected 0 or more');
const Price = z.strictObject({ excl_vat: amount, incl_vat: amount.optional() });

const PriceComponent = z.strictObject({
  type: z.enum(TARIFF_DIMENSIONS),
  price: amount,
  /** VAT in percent; absent means no VAT applies (not 0 %). */
  vat: z.number({ error: 'expected a VAT percentage' }).min(0, 'expected 0–100').max(100, 'expected 0–100').optional(),
  /** Wh for ENERGY, seconds for TIME and PARKING_TIME; 0 or 1 bills exactly. */
  step_size: z.number({ error: 'expected a whole number' }).int('expected a whole number').nonnegative('expected 0 or more'),
});

const TariffRestrictions = z.strictObject({
  start_time: localTime.optional(),
  end_time: localTime.optional(),
  start_date: localDate.optional(),
  end_date: localDate.optional(),
  min_kwh: amount.optional(),
  max_kwh: amount.optional(),
  min_current: amount.optional(),
  max_current: amount.optional(),
  min_power: amount.optional(),
  max_power: amount.optional(),
  min_duration: seconds.optional(),
  max_duration: seconds.optional(),
  day_of_week: z.array(z.enum(DAYS_OF_WEEK)).optional(),
  reservation: z.enum(['RESERVATION', 'RESERVATION_EXPIRES']).optional(),
});

const TariffElement = z.strictObject({ price_components: z.array(PriceComponent).min(1, 'expected at least one price component'), restrictions: TariffRestrictions.optional() });

export const TariffSchema = z.strictObject({
  country_code: z.string().regex(/^[A-Za-z]{2}$/, 'expected an ISO 3166 alpha-2 country code'),
  party_id: z.string().regex(/^[A-Za-z0-9]{3}$/, 'expected a 3-character party id'),
  id: z.string().min(1).max(36),
  currency: z.string().refine(isCurrency, 'expected an ISO 4217 currency code such as "EUR"'),
  type: z.enum(TARIFF_TYPES).optional(),
  tariff_alt_text: z.array(z.strictObject({ language: z.string().regex(/^[a-z]{2}$/, 'expected an ISO 639-1 language code'), text: z.string().min(1).max(512) })).optional(),
  tariff_alt_url: z.url().optional(),
  min_price: Price.optional(),
  max_price: Price.optional(),
  elements: z.array(TariffElement).min(1, 'expected at least one tariff element'),
  start_date_time: instant.optional(),
  end_date_time: instant.optional(),
  energy_mix: z.unknown().optional(),
  last_updated: instant,
});
export type Tariff = z.output<typeof TariffSchema>;
export type TariffInput = z.input<typeof TariffSchema>;

/** What a session did in one charging period: volumes, and what the charger measured of current and power. */
export interface SessionPeriod {
  start: Date;
  energyKwh: Decimal;
  /** Time charging (energy flowing), in hours. */
  chargingHours: Decimal;
  /** Time connected but not charging, in hours. */
  parkingHours: Decimal;
  minCurrent?: Decimal;
  maxCurrent?: Decimal;
  minPower?: Decimal;
  maxPower?: Decimal;
}

export interface PricedLine {
  /** Index of the period in the session's periods. */
  period: number;
  dimension: TariffDimension;
  /** Index of the tariff element whose component priced it. */
  element: number;
  /** kWh, hours, or 1 for FLAT. */
  volume: Decimal;
  unitPrice: Decimal;
  vatPercent: number | null;
  exclVat: Decimal;
  inclVat: Decimal;
  /** The volume added to reach the step size (billed, not used). */
  step: boolean;
}

export interface Amount {
  exclVat: Decimal;
  inclVat: Decimal;
}

export interface SessionPrice {
  tariffId: string;
  currency: string;
  lines: PricedLine[];
  /** Exact, unrounded: each dimension's cost, and the total (bounded by min/max price). */
  fixed: Amount;
  energy: Amount;
  time: Amount;
  parking: Amount;
  total: Amount;
  /** Which bound set the total, if one did. */
  bound: 'min_price' | 'max_price' | null;
  totalEnergyKwh: Decimal;
  totalChargingHours: Decimal;
  totalParkingHours: Decimal;
}

/** The tariff a session started at `start` runs under: the first valid then (start/end date-time), skipping charging-profile tariffs. */
export function tariffAt(tariffs: readonly Tariff[], start: Date): Tariff | null {
  return (
    tariffs.find(
      (t) =>
        (t.type === undefined || t.type === 'REGULAR' || t.type === 'AD_HOC_PAYMENT') &&
        (!t.start_date_time || Date.parse(t.start_date_time) <= start.getTime()) &&
        (!t.end_date_time || start.getTime() < Date.parse(t.end_date_time)),
    ) ?? null
  );
}

const ZERO = money(0);
const zero = (): Amount => ({ exclVat: ZERO, inclVat: ZERO });

/**
 * Prices a session's periods under a tariff. Each period is priced, per dimension, by the first
 * element (in order) that has a component of that dimension and whose restrictions all hold at the
 * period's start, in the location's time zone; FLAT once per session. Step sizes then apply once
 * per session: to the total energy (the step of the last ENERGY component used), and to the total
 * parking time when parking was priced, else to the total charging time (the step of the last such
 * component); the volume added is priced at that component. min/max price bound the total, excl.
 * and incl. VAT each. Nothing is rounded here: see `ocpiPrices`.
 */
export function priceSession(tariff: Tariff, session: { start: Date; periods: readonly SessionPeriod[] }, timeZone: string): SessionPrice {
  const lines: PricedLine[] = [];
  const lastComponent: Partial<Record<Exclude<TariffDimension, 'FLAT'>, z.output<typeof PriceComponent>>> = {};
  let energySoFar = ZERO;
  let flatPriced = false;
  session.periods.forEach((period, index) => {
    const active = activeElements(tariff, session.start, period, energySoFar, timeZone);
    const volumes: Record<TariffDimension, Decimal> = { FLAT: money(flatPriced ? 0 : 1), ENERGY: period.energyKwh, TIME: period.chargingHours, PARKING_TIME: period.parkingHours };
    for (const dimension of TARIFF_DIMENSIONS) {
      const volume = volumes[dimension];
      if (volume.isZero()) continue;
      const match = active.map(({ element, at }) => ({ component: element.price_components.find((c) => c.type === dimension), at })).find((m) => m.component);
      if (!match?.component) continue;
      lines.push(priced(index, dimension, match.at, volume, match.component, false));
      if (dimension === 'FLAT') flatPriced = true;
      else lastComponent[dimension] = match.component;
    }
    energySoFar = energySoFar.plus(period.energyKwh);
  });

  // Step sizes, once per session: energy; and parking if it was priced, else charging time.
  const addStep = (dimension: Exclude<TariffDimension, 'FLAT'>, unitsPerVolume: number) => {
    const component = lastComponent[dimension];
    if (!component || component.step_size <= 1) return;
    const ofDimension = lines.filter((l) => l.dimension === dimension);
    const used = ofDimension.reduce((sum, l) => sum.plus(l.volume), ZERO).times(unitsPerVolume);
    const billed = used.div(component.step_size).ceil().times(component.step_size);
    if (billed.gt(used)) {
      const last = ofDimension.at(-1)!;
      lines.push(priced(last.period, dimension, last.element, billed.minus(used).div(unitsPerVolume), component, true));
    }
  };
  addStep('ENERGY', 1000);
  addStep(lastComponent.PARKING_TIME ? 'PARKING_TIME' : 'TIME', 3600);

  const sum = (dimension: TariffDimension): Amount =>
    lines.filter((l) => l.dimension === dimension).reduce((acc, l) => ({ exclVat: acc.exclVat.plus(l.exclVat), inclVat: acc.inclVat.plus(l.inclVat) }), zero());
  const costs = { fixed: sum('FLAT'), energy: sum('ENERGY'), time: sum('TIME'), parking: sum('PARKING_TIME') };
  const unbounded = Object.values(costs).reduce((acc, c) => ({ exclVat: acc.exclVat.plus(c.exclVat), inclVat: acc.inclVat.plus(c.inclVat) }), zero());
  const { total, bound } = bounded(unbounded, tariff);
  const totalOf = (pick: (p: SessionPeriod) => Decimal) => session.periods.reduce((s, p) => s.plus(pick(p)), ZERO);
  return {
    tariffId: tariff.id,
    currency: tariff.currency,
    lines,
    ...costs,
    total,
    bound,
    totalEnergyKwh: totalOf((p) => p.energyKwh),
    totalChargingHours: totalOf((p) => p.chargingHours),
    totalParkingHours: totalOf((p) => p.parkingHours),
  };
}

/** The tariff's elements whose restrictions all hold at a period's start (with their index), in order. */
export function activeElements(tariff: Tariff, sessionStart: Date, period: SessionPeriod, energySoFar: Decimal, timeZone: string) {
  const local = localMoment(period.start.getTime(), timeZone);
  const durationMs = period.start.getTime() - sessionStart.getTime();
  return tariff.elements.flatMap((element, at) => (!element.restrictions || restrictionsHold(element.restrictions, { local, durationMs, energySoFar, period }) ? [{ element, at }] : []));
}

/** Which element prices each dimension of a period, as one comparable key ("-" where none). */
export function elementChoice(tariff: Tariff, sessionStart: Date, period: SessionPeriod, energySoFar: Decimal, timeZone: string): string {
  const active = activeElements(tariff, sessionStart, period, energySoFar, timeZone);
  return TARIFF_DIMENSIONS.map((dimension) => active.find(({ element }) => element.price_components.some((c) => c.type === dimension))?.at ?? '-').join(',');
}

/**
 * The instants within (from, to) at which some element's time restriction may switch: each local
 * midnight (a new date and weekday), each day's start_time and end_time, and the session's
 * min/max_duration thresholds. Energy thresholds depend on the meter and are found by the caller.
 */
export function tariffBoundaries(tariff: Tariff, sessionStart: Date, from: Date, to: Date, timeZone: string): Date[] {
  const restrictions = tariff.elements.flatMap((e) => (e.restrictions ? [e.restrictions] : []));
  const minutes = new Set([0, ...restrictions.flatMap((r) => [r.start_time, r.end_time].filter((t): t is string => t !== undefined).map(minuteOfDay))]);
  const instants: number[] = [];
  for (let date = localMoment(from.getTime(), timeZone).date; wallClock(date, 0, timeZone) < to.getTime(); date = nextLocalDate(date)) {
    for (const minute of minutes) instants.push(wallClock(date, minute, timeZone));
  }
  for (const r of restrictions) for (const s of [r.min_duration, r.max_duration]) if (s !== undefined) instants.push(sessionStart.getTime() + s * 1000);
  return [...new Set(instants)].filter((t) => t > from.getTime() && t < to.getTime()).sort((a, b) => a - b).map((t) => new Date(t));
}

/** The kWh thresholds (min_kwh, max_kwh) of a tariff's elements, ascending. */
export function energyThresholds(tariff: Tariff): Decimal[] {
  const values = tariff.elements.flatMap((e) => [e.restrictions?.min_kwh, e.restrictions?.max_kwh].filter((v): v is number => v !== undefined && v > 0));
  return [...new Set(values)].sort((a, b) => a - b).map((v) => money(v));
}

function priced(period: number, dimension: TariffDimension, element: number, volume: Decimal, component: z.output<typeof PriceComponent>, step: boolean): PricedLine {
  const unitPrice = money(component.price);
  const exclVat = volume.times(unitPrice);
  const vatPercent = component.vat ?? null;
  // No VAT given: none applies (OCPI PriceComponent.vat), so incl. = excl.
  const inclVat = vatPercent === null ? exclVat : exclVat.times(money(vatPercent).div(100).plus(1));
  return { period, dimension, element, volume, unitPrice, vatPercent, exclVat, inclVat, step };
}

interface RestrictionContext {
  local: LocalMoment;
  /** Since the session began. */
  durationMs: number;
  energySoFar: Decimal;
  period: SessionPeriod;
}

/** Whether an element's restrictions all hold at a period's start (a logical AND). */
function restrictionsHold(r: z.output<typeof TariffRestrictions>, { local, durationMs, energySoFar, period }: RestrictionContext): boolean {
  // Reservations are not charging sessions: their elements never price one.
  if (r.reservation) return false;
  if (r.day_of_week && !r.day_of_week.includes(DAYS_OF_WEEK[local.date.weekday]!)) return false;
  const date = local.date.iso;
  if (r.start_date && date < r.start_date) return false;
  if (r.end_date && date >= r.end_date) return false; // end_date is exclusive
  if (!withinTimeOfDay(Math.floor(local.msOfDay / 1000), r.start_time, r.end_time)) return false;
  if (r.min_kwh !== undefined && energySoFar.lt(money(r.min_kwh))) return false; // inclusive
  if (r.max_kwh !== undefined && energySoFar.gte(money(r.max_kwh))) return false; // exclusive
  if (r.min_duration !== undefined && durationMs < r.min_duration * 1000) return false; // inclusive
  if (r.max_duration !== undefined && durationMs >= r.max_duration * 1000) return false; // exclusive
  // Current and power: what the period measured (its minimum for a minimum, maximum for a maximum);
  // power falls back to the period's average (energy / charging time). Unmeasured → does not hold.
  const average = period.chargingHours.gt(0) ? period.energyKwh.div(period.chargingHours) : undefined;
  if (r.min_current !== undefined && !(period.minCurrent?.gte(money(r.min_current)) ?? false)) return false;
  if (r.max_current !== undefined && !(period.maxCurrent?.lt(money(r.max_current)) ?? false)) return false;
  if (r.min_power !== undefined && !((period.minPower ?? average)?.gte(money(r.min_power)) ?? false)) return false;
  if (r.max_power !== undefined && !((period.maxPower ?? average)?.lt(money(r.max_power)) ?? false)) return false;
  return true;
}

/**
 * Time of day (`second` after local midnight): from `start` (inclusive) until `end` (exclusive); an
 * `end` before the `start` runs past midnight, and an `end` of 00:00 is the end of the day. Equal
 * start and end: all day.
 */
function withinTimeOfDay(second: number, start: string | undefined, end: string | undefined): boolean {
  const from = start ? minuteOfDay(start) * 60 : 0;
  const until = !end || end === '00:00' ? 86_400 : minuteOfDay(end) * 60;
  if (from === until || (from === 0 && until === 86_400)) return true;
  return from < until ? from <= second && second < until : second >= from || second < until;
}

/** min_price / max_price bound the total, excl. and incl. VAT each; a bound without incl. VAT scales incl. VAT with excl. */
function bounded(total: Amount, tariff: Tariff): { total: Amount; bound: SessionPrice['bound'] } {
  const apply = (price: z.output<typeof Price> | undefined, outside: (value: Decimal, limit: Decimal) => boolean, name: 'min_price' | 'max_price') => {
    if (!price) return null;
    const excl = money(price.excl_vat);
    const exclOutside = outside(total.exclVat, excl);
    const incl = price.incl_vat !== undefined ? money(price.incl_vat) : total.exclVat.isZero() ? excl : total.inclVat.times(excl).div(total.exclVat);
    const inclOutside = outside(total.inclVat, incl);
    if (!exclOutside && !inclOutside) return null;
    return { total: { exclVat: exclOutside ? excl : total.exclVat, inclVat: inclOutside ? incl : total.inclVat }, bound: name };
  };
  return apply(tariff.min_price, (v, l) => v.lt(l), 'min_price') ?? apply(tariff.max_price, (v, l) => v.gt(l), 'max_price') ?? { total, bound: null };
}

/** OCPI's Price fields of a priced session, each rounded once (half up, ISO 4217 minor units) from its exact value. */
export function ocpiPrices(price: SessionPrice) {
  const stated = (value: Decimal) => Object.defineProperty(roundMoney(value, price.currency), PLACES, { value: minorUnits(price.currency) });
  const round = (a: Amount) => ({ excl_vat: stated(a.exclVat), incl_vat: stated(a.inclVat) });
  return {
    currency: price.currency,
    total_cost: round(price.total),
    total_fixed_cost: round(price.fixed),
    total_energy: price.totalEnergyKwh,
    total_energy_cost: round(price.energy),
    total_time: price.totalChargingHours.plus(price.totalParkingHours),
    total_time_cost: round(price.time),
    total_parking_time: price.totalParkingHours,
    total_parking_cost: round(price.parking),
  };
}

const CDR_DIMENSION_TYPES = ['CURRENT', 'ENERGY', 'ENERGY_EXPORT', 'ENERGY_IMPORT', 'MAX_CURRENT', 'MIN_CURRENT', 'MAX_POWER', 'MIN_POWER', 'PARKING_TIME', 'POWER', 'RESERVATION_TIME', 'STATE_OF_CHARGE', 'TIME'] as const;

/** The parts of an OCPI 2.2.1 CDR that pricing reads; other fields are left as they are. */
export const CdrForPricingSchema = z.looseObject({
  start_date_time: instant,
  end_date_time: instant,
  charging_periods: z
    .array(
      z.looseObject({
        start_date_time: instant,
        dimensions: z.array(z.strictObject({ type: z.enum(CDR_DIMENSION_TYPES), volume: z.number({ error: 'expected a number' }) })).min(1, 'expected at least one dimension'),
        tariff_id: z.string().max(36).optional(),
      }),
    )
    .min(1, 'expected at least one charging period'),
});
export type CdrForPricing = z.output<typeof CdrForPricingSchema>;

/** A CDR's charging periods as session periods: volumes from their dimensions (a period's times come from its dimensions, not its timestamps). */
export function periodsOfCdr(cdr: CdrForPricing): { start: Date; periods: SessionPeriod[] } {
  const periods = cdr.charging_periods.map((p) => {
    const volume = (type: (typeof CDR_DIMENSION_TYPES)[number]) => {
      const found = p.dimensions.find((d) => d.type === type);
      return found ? money(found.volume) : undefined;
    };
    return {
      start: new Date(p.start_date_time),
      energyKwh: volume('ENERGY') ?? ZERO,
      chargingHours: volume('TIME') ?? ZERO,
      parkingHours: volume('PARKING_TIME') ?? ZERO,
      minCurrent: volume('MIN_CURRENT') ?? volume('CURRENT'),
      maxCurrent: volume('MAX_CURRENT') ?? volume('CURRENT'),
      minPower: volume('MIN_POWER') ?? volume('POWER'),
      maxPower: volume('MAX_POWER') ?? volume('POWER'),
    } satisfies SessionPeriod;
  });
  return { start: new Date(cdr.start_date_time), periods };
}

/** Marks a rounded amount with its currency's minor units, so that JSON states 5.50, not 5.5. */
const PLACES = Symbol('minor units');

/** JSON with decimals written as numbers, exactly as they are; stated amounts with their minor units (5.50). */
export function decimalJson(value: unknown, indent = 2): string {
  // Each decimal becomes a marked string of its digits, which the native JSON.stringify (far faster
  // than one given a replacer) writes quoted; the marks then go, with the quotes.
  return JSON.stringify(markDecimals(value), undefined, indent).replace(/"\\u0000(-?[0-9.]+)"/g, '$1');
}

function markDecimals(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Money) {
    const places = (value as unknown as Record<symbol, number | undefined>)[PLACES];
    return `\u0000${places === undefined ? value.toFixed() : value.toFixed(places)}`;
  }
  if (Array.isArray(value)) return value.map(markDecimals);
  if (value instanceof Date || typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const marked: Record<string, unknown> = {};
  for (const key of Object.keys(value)) marked[key] = markDecimals((value as Record<string, unknown>)[key]);
  return marked;
}
