import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import { chargingPeriods, issueCdr, type RecordedSession, type SessionRecordings } from '../../contracts/cdr.js';
import { money } from '../../contracts/money.js';
import { TariffSchema } from '../../contracts/tariff.js';

const VIENNA = 'Europe/Vienna';
const local = (time: string) => DateTime.fromISO(`2026-05-04T${time}`, { zone: VIENNA }).toJSDate(); // a Monday
const alpinaTariff = TariffSchema.parse(alpina.pricing.driverTariffs[0]);
const location = { id: 'alpina-kitzbuehel', name: 'Hotel Alpina', address: 'Hahnenkammstraße 1, 6370 Kitzbühel', timeZone: VIENNA };

/** Plugged in 16:30, charging until 18:30 (10 kWh, a reading every 30 minutes), then connected until 19:45. */
const session: RecordedSession = {
  id: '7f0c3b7e-2f1a-4c55-9d7e-3f1b2a9c0d11',
  chargerId: 'ALPINA-01',
  connectorId: 1,
  idTag: 'RFID-0042',
  startedAt: local('16:30'),
  endedAt: local('19:45'),
  meterStartWh: money(1000),
  meterStopWh: money(11000),
};
const recordings: SessionRecordings = {
  registers: ['17:00', '17:30', '18:00', '18:30'].map((t, i) => ({ at: local(t), value: money(3500 + 2500 * i) })),
  statuses: [
    { at: local('16:29'), status: 'Preparing' },
    { at: local('16:30'), status: 'Charging' },
    { at: local('18:30'), status: 'SuspendedEV' },
  ],
  power: ['16:45', '17:15', '17:45', '18:15'].map((t) => ({ at: local(t), value: money(5) })),
  current: [],
};

describe('charge detail records from what the charger recorded', () => {
  it('cuts the session where the price can change and where charging stops, and merges the rest', () => {
    const periods = chargingPeriods(session, recordings, alpinaTariff, VIENNA);
    // 60 minutes after plug-in the idle fee's element becomes active: a new period at 17:30.
    expect(periods.map((p) => [DateTime.fromJSDate(p.start, { zone: VIENNA }).toFormat('HH:mm'), p.energyKwh.toFixed(), p.chargingHours.toFixed(), p.parkingHours.toFixed()])).toEqual([
      ['16:30', '5', '1', '0'],
      ['17:30', '5', '1', '0'],
      ['18:30', '0', '0', '1.25'],
    ]);
    expect(periods[0]).toMatchObject({ minPower: money(5), maxPower: money(5) });
  });

  it('prices it under the agreement’s tariff: 10 kWh at 0.49 and 75 idle minutes after the first hour at 0.10 a minute', () => {
    const periods = chargingPeriods(session, recordings, alpinaTariff, VIENNA);
    const issued = issueCdr(session, periods, { countryCode: 'AT', partyId: 'CHO', currency: 'EUR', location, agreement: { id: 'hotel-alpina', version: 1 }, tariff: alpinaTariff, voucher: null, issuedAt: local('19:46') });
    expect(issued.payable.exclVat.toFixed(2)).toBe('12.40');
    expect(issued.payable.inclVat.toFixed(2)).toBe('14.88');
    expect(issued.document).toMatchObject({
      id: session.id,
      session_id: session.id,
      currency: 'EUR',
      cdr_location: { id: 'alpina-kitzbuehel', evse_uid: 'ALPINA-01*1', connector_id: '1' },
      total_energy: money(10),
      total_time: money(3.25),
      total_parking_time: money(1.25),
      last_updated: '2026-05-04T17:46:00.000Z',
    });
    expect((issued.document.total_energy_cost as { excl_vat: { toFixed(n: number): string } }).excl_vat.toFixed(2)).toBe('4.90');
    expect((issued.document.total_parking_cost as { incl_vat: { toFixed(n: number): string } }).incl_vat.toFixed(2)).toBe('9.00');
  });

  it('a voucher takes its discount off what the driver pays; the list price stays on the CDR', () => {
    const periods = chargingPeriods(session, recordings, alpinaTariff, VIENNA);
    const issued = issueCdr(session, periods, { countryCode: 'AT', partyId: 'CHO', currency: 'EUR', location, agreement: null, tariff: alpinaTariff, voucher: { code: 'ALPINA-GUEST', discountPercent: 100 }, issuedAt: local('19:46') });
    expect(issued.payable.inclVat.toFixed(2)).toBe('0.00');
    expect((issued.document.concierge as { list_price: { incl_vat: { toFixed(n: number): string } } }).list_price.incl_vat.toFixed(2)).toBe('14.88');
    expect(issued.document.remark).toBe('voucher ALPINA-GUEST: 100% off the total');
  });

  it('cuts at an energy threshold by interpolating the register: the first kWh free, then 0.20', () => {
    const firstKwhFree = TariffSchema.parse({
      country_code: 'DE',
      party_id: 'ALL',
      id: '52',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0, step_size: 1 }], restrictions: { max_kwh: 1 } },
        { price_components: [{ type: 'ENERGY', price: 0.2, step_size: 1 }], restrictions: { min_kwh: 1 } },
      ],
      last_updated: '2018-12-29T15:55:58Z',
    });
    const periods = chargingPeriods({ ...session, endedAt: local('18:30') }, { ...recordings, statuses: [] }, firstKwhFree, VIENNA);
    expect(periods.map((p) => p.energyKwh.toFixed())).toEqual(['1', '9']);
    expect(DateTime.fromJSDate(periods[1]!.start, { zone: VIENNA }).toFormat('HH:mm')).toBe('16:42'); // 1 kWh of the first 2.5 kWh half hour
    const issued = issueCdr(session, periods, { countryCode: 'DE', partyId: 'ALL', currency: 'EUR', location, agreement: null, tariff: firstKwhFree, voucher: null, issuedAt: local('19:46') });
    expect(issued.payable.exclVat.toFixed(2)).toBe('1.80');
  });

  it('a session under no tariff is a CDR of no cost that says so; a register that runs backwards adds no energy', () => {
    const backwards = { ...recordings, registers: [{ at: local('17:00'), value: money(500) }] };
    const periods = chargingPeriods({ ...session, meterStopWh: money(900) }, backwards, null, VIENNA);
    expect(periods.reduce((s, p) => s.plus(p.energyKwh), money(0)).toFixed()).toBe('0');
    const issued = issueCdr(session, periods, { countryCode: 'AT', partyId: 'CHO', currency: 'EUR', location, agreement: null, tariff: null, voucher: null, issuedAt: local('19:46') });
    expect(issued.payable.exclVat.toFixed(2)).toBe('0.00');
    expect(issued.document.remark).toBe('no driver tariff in force at the start of the session');
  });
});
