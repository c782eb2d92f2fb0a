import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { money } from '../../contracts/money.js';
import { ocpiPrices, periodsOfCdr, priceSession, tariffAt, TariffSchema, type SessionPeriod, type TariffInput } from '../../contracts/tariff.js';

/**
 * Pricing against the worked examples of OCPI 2.2.1 (mod_tariffs.asciidoc and mod_cdrs.asciidoc at
 * tag 2.2.1; the tariffs are the spec's examples/tariff_*.json, transcribed). Where the spec's own
 * examples disagree, the test pins the rule docs/settlement.md chose and says so.
 */

const ZONE = 'Europe/Amsterdam';
const base = { country_code: 'DE', party_id: 'ALL', currency: 'EUR', last_updated: '2018-12-17T11:44:10Z' };
const tariff = (id: string, rest: Omit<TariffInput, keyof typeof base | 'id'>) => TariffSchema.parse({ ...base, id, ...rest });
const energy = (price: number, vat?: number, step = 1) => ({ type: 'ENERGY' as const, price, step_size: step, ...(vat === undefined ? {} : { vat }) });
const flat = (price: number, vat?: number) => ({ type: 'FLAT' as const, price, step_size: 1, ...(vat === undefined ? {} : { vat }) });
const time = (price: number, vat: number | undefined, step: number) => ({ type: 'TIME' as const, price, step_size: step, ...(vat === undefined ? {} : { vat }) });
const parking = (price: number, vat: number | undefined, step: number) => ({ type: 'PARKING_TIME' as const, price, step_size: step, ...(vat === undefined ? {} : { vat }) });

interface Segment {
  minutes: number;
  kwh?: number;
  /** Connected, not charging. */
  parked?: boolean;
  minCurrent?: number;
  maxCurrent?: number;
  maxPower?: number;
}

/** A session from a local start and consecutive segments, each one charging period. */
function session(localStart: string, segments: Segment[]) {
  const start = DateTime.fromISO(localStart, { zone: ZONE });
  let at = start;
  const periods: SessionPeriod[] = segments.map((s) => {
    const hours = money(s.minutes).div(60);
    const period: SessionPeriod = {
      start: at.toJSDate(),
      energyKwh: money(s.kwh ?? 0),
      chargingHours: s.parked ? money(0) : hours,
      parkingHours: s.parked ? hours : money(0),
      ...(s.minCurrent !== undefined ? { minCurrent: money(s.minCurrent) } : {}),
      ...(s.maxCurrent !== undefined ? { maxCurrent: money(s.maxCurrent) } : {}),
      ...(s.maxPower !== undefined ? { maxPower: money(s.maxPower) } : {}),
    };
    at = at.plus({ minutes: s.minutes });
    return period;
  });
  return { start: start.toJSDate(), periods };
}

/** The OCPI totals as plain text: excl/incl VAT of the total and each dimension. */
function totals(t: ReturnType<typeof tariff>, s: ReturnType<typeof session>) {
  const p = ocpiPrices(priceSession(t, s, ZONE));
  const text = (a: { excl_vat: { toFixed(n: number): string }; incl_vat: { toFixed(n: number): string } }) => `${a.excl_vat.toFixed(2)}/${a.incl_vat.toFixed(2)}`;
  return { total: text(p.total_cost), fixed: text(p.total_fixed_cost), energy: text(p.total_energy_cost), time: text(p.total_time_cost), parking: text(p.total_parking_cost) };
}

const tariff8 = tariff('8', { elements: [{ price_components: [energy(0.25, 10)] }] });
const tariff9 = tariff('9', { elements: [{ price_components: [flat(0.5, 20), energy(0.25, 10)] }] });
const tariff10 = tariff('18', { elements: [{ price_components: [flat(0.5, 20), energy(0.25, 10), parking(2, 20, 900)] }] });
const complex = tariff('14', {
  type: 'REGULAR',
  elements: [
    { price_components: [flat(2.5, 15)] },
    { price_components: [time(1, 20, 900)], restrictions: { max_current: 32 } },
    { price_components: [time(2, 20, 600)], restrictions: { min_current: 32, day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] } },
    { price_components: [time(1.25, 20, 600)], restrictions: { min_current: 32, day_of_week: ['SATURDAY', 'SUNDAY'] } },
    { price_components: [parking(5, 10, 300)], restrictions: { start_time: '09:00', end_time: '18:00', day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] } },
    { price_components: [parking(6, 10, 300)], restrictions: { start_time: '10:00', end_time: '17:00', day_of_week: ['SATURDAY'] } },
  ],
});
const stepSwitching = tariff('22', {
  elements: [
    { price_components: [time(1.2, undefined, 1800), parking(1, undefined, 900)], restrictions: { start_time: '00:00', end_time: '17:00' } },
    { price_components: [time(2.4, undefined, 900), parking(1, undefined, 900)], restrictions: { start_time: '17:00', end_time: '20:00' } },
    { price_components: [time(2.4, undefined, 900)], restrictions: { start_time: '20:00', end_time: '00:00' } },
  ],
});

describe('OCPI 2.2.1 tariffs: the spec’s worked examples', () => {
  it('0.25 per kWh, 10 % VAT: 20 kWh cost 5.00 / 5.50', () => {
    expect(totals(tariff8, session('2026-05-04T10:00', [{ minutes: 120, kwh: 20 }])).total).toBe('5.00/5.50');
  });

  it('a start fee of 0.50 (20 % VAT) and 0.25 per kWh: 20 kWh cost 5.50 / 6.10', () => {
    expect(totals(tariff9, session('2026-05-04T10:00', [{ minutes: 120, kwh: 20 }]))).toMatchObject({ total: '5.50/6.10', fixed: '0.50/0.60', energy: '5.00/5.50' });
  });

  it('a minimum price of 0.50 / 0.55: 20 kWh cost 5.00 / 5.50, and under 2 kWh the minimum', () => {
    const minimum = tariff('20', { min_price: { excl_vat: 0.5, incl_vat: 0.55 }, elements: [{ price_components: [energy(0.25, 10)] }] });
    expect(totals(minimum, session('2026-05-04T10:00', [{ minutes: 120, kwh: 20 }])).total).toBe('5.00/5.50');
    const small = priceSession(minimum, session('2026-05-04T10:00', [{ minutes: 10, kwh: 1 }]), ZONE);
    expect(small.bound).toBe('min_price');
    expect(ocpiPrices(small).total_cost.excl_vat.toFixed(2)).toBe('0.50');
    expect(ocpiPrices(small).total_cost.incl_vat.toFixed(2)).toBe('0.55');
  });

  it('start fee, energy and parking billed per 15 minutes: 20 kWh and 40 minutes parked cost 7.00 / 7.90 (45 minutes of parking billed)', () => {
    const result = totals(tariff10, session('2026-05-04T10:00', [{ minutes: 120, kwh: 20 }, { minutes: 40, parked: true }]));
    expect(result).toMatchObject({ total: '7.00/7.90', parking: '1.50/1.80' });
  });

  it('a maximum price of 10.00 / 11.00: 50 kWh cost the maximum, 30 kWh 8.00 / 8.85', () => {
    const capped = tariff('16', { max_price: { excl_vat: 10, incl_vat: 11 }, end_date_time: '2019-06-30T23:59:59Z', elements: [{ price_components: [flat(0.5, 20), energy(0.25, 10)] }] });
    const big = priceSession(capped, session('2019-05-04T10:00', [{ minutes: 300, kwh: 50 }]), ZONE);
    expect(big.bound).toBe('max_price');
    expect(totals(capped, session('2019-05-04T10:00', [{ minutes: 300, kwh: 50 }])).total).toBe('10.00/11.00');
    expect(totals(capped, session('2019-05-04T10:00', [{ minutes: 200, kwh: 30 }])).total).toBe('8.00/8.85');
  });

  it('2.00 per hour charging: 2.5 hours cost 5.00 / 5.50, and parking costs nothing', () => {
    const hourly = tariff('12', { elements: [{ price_components: [time(2, 10, 60)] }] });
    expect(totals(hourly, session('2026-05-04T10:00', [{ minutes: 150, kwh: 20 }, { minutes: 30, parked: true }])).total).toBe('5.00/5.50');
  });

  it('3.00 per hour charging, 5.00 per hour parking in 5-minute steps: 150 + 42 minutes cost 11.25 / 12.75', () => {
    const t = tariff('13', { elements: [{ price_components: [time(3, 10, 60), parking(5, 20, 300)] }] });
    expect(totals(t, session('2026-05-04T10:00', [{ minutes: 150, kwh: 20 }, { minutes: 42, parked: true }])).total).toBe('11.25/12.75');
  });

  it('1.90 per hour in 5-minute steps at 5.2 % VAT: 2.5 hours cost 4.75 / 5.00', () => {
    const t = tariff('2', { elements: [{ price_components: [time(1.9, 5.2, 300)] }] });
    expect(totals(t, session('2026-05-04T10:00', [{ minutes: 150, kwh: 20 }])).total).toBe('4.75/5.00');
  });

  it('energy in steps of 100 Wh: 20.45 kWh bill 20.5 kWh — energy 5.13 / 5.64, total 5.63 / 6.24', () => {
    const t = tariff('3', { elements: [{ price_components: [flat(0.5, 20), energy(0.25, 10, 100)] }] });
    expect(totals(t, session('2026-05-04T10:00', [{ minutes: 120, kwh: 20.45 }]))).toMatchObject({ energy: '5.13/5.64', total: '5.63/6.24' });
  });

  it('the complex tariff, Monday 09:30, 165 minutes at 16 A then 42 minutes parked: 9.00 / 10.30', () => {
    const monday = session('2026-05-04T09:30', [{ minutes: 165, kwh: 10, minCurrent: 16, maxCurrent: 16 }, { minutes: 42, parked: true }]);
    expect(totals(complex, monday)).toMatchObject({ total: '9.00/10.30', fixed: '2.50/2.88', time: '2.75/3.30', parking: '3.75/4.13' });
  });

  it('the complex tariff, Saturday 13:30, 114 minutes at 43 A then 71 minutes parked: 12.375 / 13.975 exactly, stated 12.38 / 13.98', () => {
    const saturday = session('2026-05-09T13:30', [{ minutes: 114, kwh: 50, minCurrent: 43, maxCurrent: 43 }, { minutes: 71, parked: true }]);
    const price = priceSession(complex, saturday, ZONE);
    expect(price.total.exclVat.toFixed()).toBe('12.375');
    expect(price.total.inclVat.toFixed()).toBe('13.975');
    expect(totals(complex, saturday).total).toBe('12.38/13.98');
  });

  it('switching elements at 17:00: 35 minutes charged from 16:35 bill 25 minutes before and 20 after (the last step, 15 minutes, on the total): 1.30', () => {
    expect(totals(stepSwitching, session('2026-05-04T16:35', [{ minutes: 25, kwh: 3 }, { minutes: 10, kwh: 1 }])).total).toBe('1.30/1.30');
  });

  it('charging then parking: the step applies to the parking total alone — 16:55 charging 10 minutes, 2 minutes parked bill 15 minutes of parking (the spec’s example #1 says 0.383; see docs/settlement.md)', () => {
    const result = totals(stepSwitching, session('2026-05-04T16:55', [{ minutes: 5, kwh: 1 }, { minutes: 5, kwh: 1 }, { minutes: 2, parked: true }]));
    expect(result).toMatchObject({ time: '0.30/0.30', parking: '0.25/0.25', total: '0.55/0.55' });
  });

  it('max_power: 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW cost 20.30', () => {
    const t = tariff('1', {
      type: 'REGULAR',
      elements: [
        { price_components: [energy(0.2, 20)], restrictions: { max_power: 16 } },
        { price_components: [energy(0.35, 20)], restrictions: { max_power: 32 } },
        { price_components: [energy(0.5, 20)] },
      ],
    });
    const s = session('2026-05-04T10:00', [
      { minutes: 10, kwh: 1, maxPower: 6 },
      { minutes: 50, kwh: 40, maxPower: 48 },
      { minutes: 8, kwh: 0.5, maxPower: 4 },
    ]);
    expect(totals(t, s).total).toBe('20.30/24.36');
  });

  it('max_duration: the first 30 minutes free, then 0.25 per kWh — 5 kWh in 30 minutes and 1.2 kWh after cost 0.30', () => {
    const t = tariff('2', {
      type: 'REGULAR',
      elements: [
        { price_components: [energy(0, 20)], restrictions: { max_duration: 1800 } },
        { price_components: [energy(0.25, 20)], restrictions: { max_duration: 3600 } },
        { price_components: [energy(0.4, 20)] },
      ],
    });
    expect(totals(t, session('2026-05-04T10:00', [{ minutes: 30, kwh: 5 }, { minutes: 10, kwh: 1.2 }])).total).toBe('0.30/0.36');
  });

  it('re-prices the spec’s example CDR: 1.973 hours at 2.00 per hour in 5-minute steps bill 2 hours, 4.00 / 4.40', () => {
    const cdr = {
      start_date_time: '2015-06-29T21:39:09Z',
      end_date_time: '2015-06-29T23:37:32Z',
      charging_periods: [{ start_date_time: '2015-06-29T21:39:09Z', dimensions: [{ type: 'TIME' as const, volume: 1.973 }], tariff_id: '12' }],
    };
    const t = TariffSchema.parse({ country_code: 'BE', party_id: 'BEC', id: '12', currency: 'EUR', elements: [{ price_components: [time(2, 10, 300)] }], last_updated: '2015-02-02T14:15:01Z' });
    const prices = ocpiPrices(priceSession(t, periodsOfCdr(cdr), 'Europe/Brussels'));
    expect([prices.total_cost.excl_vat.toFixed(2), prices.total_cost.incl_vat.toFixed(2), prices.total_time.toFixed()]).toEqual(['4.00', '4.40', '1.973']);
  });

  it('free of charge: FLAT 0', () => {
    const free = tariff('15', { elements: [{ price_components: [{ type: 'FLAT', price: 0, step_size: 0 }] }] });
    expect(totals(free, session('2026-05-04T10:00', [{ minutes: 90, kwh: 12 }, { minutes: 30, parked: true }])).total).toBe('0.00/0.00');
  });
});

describe('OCPI 2.2.1 tariffs: the step-size rules of mod_cdrs', () => {
  it('rounds the session’s total energy, not the energy after a switch: 4.3 + 1.1 kWh in 500 Wh steps bill 5.5 kWh', () => {
    const t = tariff('e', {
      elements: [
        { price_components: [energy(0.2, undefined, 500)], restrictions: { end_time: '17:00' } },
        { price_components: [energy(0.27, undefined, 500)] },
      ],
    });
    const price = priceSession(t, session('2026-05-04T16:00', [{ minutes: 60, kwh: 4.3 }, { minutes: 30, kwh: 1.1 }]), ZONE);
    const billed = price.lines.filter((l) => l.dimension === 'ENERGY').reduce((s, l) => s.plus(l.volume), money(0));
    expect(billed.toFixed()).toBe('5.5');
    expect(price.energy.exclVat.toFixed()).toBe(money(4.3).times(0.2).plus(money(1.2).times(0.27)).toFixed());
  });

  it('rounds the session’s total charging time: 6 + 22 minutes in 10-minute steps bill 24 minutes after the switch', () => {
    const t = tariff('t', {
      elements: [
        { price_components: [time(5, undefined, 600)], restrictions: { end_time: '17:00' } },
        { price_components: [time(7, undefined, 600)] },
      ],
    });
    const price = priceSession(t, session('2026-05-04T16:54', [{ minutes: 6, kwh: 1 }, { minutes: 22, kwh: 3 }]), ZONE);
    expect(price.time.exclVat.toFixed(4)).toBe(money(5).times(6).div(60).plus(money(7).times(24).div(60)).toFixed(4));
  });

  it('charging followed by parking: only the parking total is rounded (21 minutes charging stay 21, 16 parked bill 20)', () => {
    const t = tariff('p', { elements: [{ price_components: [time(1, undefined, 600), parking(2, undefined, 600)] }] });
    const price = priceSession(t, session('2026-05-04T10:00', [{ minutes: 21, kwh: 3 }, { minutes: 16, parked: true }]), ZONE);
    expect(price.time.exclVat.toFixed(4)).toBe(money(21).div(60).toFixed(4));
    expect(price.parking.exclVat.toFixed(4)).toBe(money(2).times(20).div(60).toFixed(4));
  });
});

describe('OCPI 2.2.1 tariffs: restrictions', () => {
  const byDate = tariff('d', {
    elements: [
      { price_components: [energy(0.1)], restrictions: { start_date: '2026-05-01', end_date: '2026-05-08' } },
      { price_components: [energy(0.3)], restrictions: { start_time: '22:00', end_time: '06:00' } },
      { price_components: [energy(0.9)], restrictions: { reservation: 'RESERVATION' } },
      { price_components: [energy(0.5)] },
    ],
  });
  const perKwh = (localStart: string) => priceSession(byDate, session(localStart, [{ minutes: 60, kwh: 1 }]), ZONE).energy.exclVat.toFixed(2);

  it('start_date is inclusive and end_date exclusive, in the location’s zone', () => {
    expect(perKwh('2026-05-01T00:00')).toBe('0.10');
    expect(perKwh('2026-05-07T23:59')).toBe('0.10');
    expect(perKwh('2026-05-08T12:00')).toBe('0.50');
  });

  it('a time of day whose end is before its start runs past midnight; reservation elements never price a session', () => {
    expect(perKwh('2026-05-10T23:30')).toBe('0.30');
    expect(perKwh('2026-05-11T05:59')).toBe('0.30');
    expect(perKwh('2026-05-11T06:00')).toBe('0.50');
  });

  it('min_kwh is inclusive and max_kwh exclusive, on the energy before the period', () => {
    const t = tariff('k', { elements: [{ price_components: [energy(0)], restrictions: { max_kwh: 1 } }, { price_components: [energy(0.2)], restrictions: { min_kwh: 1 } }] });
    const price = priceSession(t, session('2026-05-04T10:00', [{ minutes: 10, kwh: 1 }, { minutes: 60, kwh: 19 }]), ZONE);
    expect(price.energy.exclVat.toFixed(2)).toBe('3.80');
  });

  it('picks the tariff valid at the session’s start and skips charging-profile tariffs', () => {
    const old = tariff('old', { end_date_time: '2026-06-01T00:00:00Z', elements: [{ price_components: [energy(0.2)] }] });
    const profile = tariff('cheap', { type: 'PROFILE_CHEAP', elements: [{ price_components: [energy(0.1)] }] });
    const next = tariff('new', { start_date_time: '2026-06-01T00:00:00Z', elements: [{ price_components: [energy(0.3)] }] });
    expect(tariffAt([profile, old, next], new Date('2026-05-31T23:59:59Z'))?.id).toBe('old');
    expect(tariffAt([profile, old, next], new Date('2026-06-01T00:00:00Z'))?.id).toBe('new');
  });

  it('refuses what OCPI does not allow, by field', () => {
    const result = TariffSchema.safeParse({ ...base, id: 'x', currency: 'EURO', elements: [{ price_components: [{ type: 'ENERGY', price: 0.12345, step_size: 1.5 }], restrictions: { start_time: '24:00' } }] });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['currency', 'elements.0.price_components.0.price', 'elements.0.price_components.0.step_size', 'elements.0.restrictions.start_time']));
  });
});
