import { describe, expect, it } from 'vitest';
import { parseAgreement } from '../../contracts/agreement.js';
import alpinaInput from '../../contracts/agreements/hotel-alpina.js';
import greenmartInput from '../../contracts/agreements/greenmart-retail.js';
import harbourInput from '../../contracts/agreements/harbour-estates.js';
import type { Decimal } from 'decimal.js';
import { money } from '../../contracts/money.js';
import { ocpiPrices, priceSession, tariffAt } from '../../contracts/tariff.js';
import { settleMonth, type MonthFigures } from '../../contracts/settlement.js';

const parsed = (input: unknown) => {
  const result = parseAgreement(input);
  if (!result.agreement) throw new Error(JSON.stringify(result.problems));
  return result.agreement;
};
const alpina = parsed(alpinaInput);
const greenmart = parsed(greenmartInput);
const harbour = parsed(harbourInput);
const DAY = 86_400_000;
// May 2026 in Vienna: 31 days.
const may = { start: new Date('2026-04-30T22:00:00Z'), end: new Date('2026-05-31T22:00:00Z') };

/**
 * Hotel Alpina, May 2026, worked by hand (each amount: exact, then rounded once, half up, to cents):
 *   ALPINA-01 all month; ALPINA-02 added on 11 May (21 of 31 days).
 *   Drivers paid 73.50 + 14.70 = 88.20 excl. VAT, 88.20 + 17.64 = 105.84 incl.; vouchers gave 12.00.
 *   Payment processing 2.5 % × 105.84 = 2.646 (2.65; information).
 *   Revenue share 100 % × (88.20 − 2.646) = 85.554 → 85.55, VAT 17.1108 → 17.11, 102.66.
 *   Service fees 39.00 (+7.80 = 46.80) and 39 × 21/31 = 26.4193… → 26.42 (+5.2838… → 5.28 = 31.70).
 *   Credits, capped at 50 % of the exact fees (32.7096…): ALPINA-01 at 96.5 % (< 97 %) → 10 % of
 *   39.00 = 3.90 (+0.78 = 4.68); 2 fix breaches → 50.00, limited to 32.7096… − 3.90 = 28.8096… →
 *   28.81 (+5.7619… → 5.76 = 34.57).
 *   The venue pays 46.80 + 31.70 = 78.50; the operator 102.66 + 4.68 + 34.57 = 141.91:
 *   the operator pays the venue 63.41.
 */
const figures: MonthFigures = {
  agreement: alpina,
  period: may,
  chargers: [
    { chargerId: 'ALPINA-01', siteId: 'alpina-kitzbuehel', servedMs: 31 * DAY },
    { chargerId: 'ALPINA-02', siteId: 'alpina-kitzbuehel', servedMs: 21 * DAY },
  ],
  usage: [
    { siteId: 'alpina-kitzbuehel', chargerId: 'ALPINA-02', sessions: 3, energyKwh: money(30), paidExclVat: money('14.70'), paidInclVat: money('17.64'), listInclVat: money('17.64') },
    { siteId: 'alpina-kitzbuehel', chargerId: 'ALPINA-01', sessions: 12, energyKwh: money(150), paidExclVat: money('73.50'), paidInclVat: money('88.20'), listInclVat: money('100.20') },
  ],
  uptime: [
    { chargerId: 'ALPINA-01', connectorId: 1, uptimePercent: 96.5 },
    { chargerId: 'ALPINA-02', connectorId: 1, uptimePercent: 99.9 },
  ],
  breaches: { response: 0, fix: 2 },
};

describe('a month’s statement', () => {
  const statement = settleMonth(figures);
  const amounts = (kind: string) => statement.lines.filter((l) => l.kind === kind).map((l) => [l.chargerId, l.net.toFixed(2), l.vat.toFixed(2), l.gross.toFixed(2), l.payer, l.payee]);

  it('states what drivers paid per charger and the vouchers, for information', () => {
    expect(amounts('sessions')).toEqual([
      ['ALPINA-01', '73.50', '14.70', '88.20', 'drivers', 'chargeops'],
      ['ALPINA-02', '14.70', '2.94', '17.64', 'drivers', 'chargeops'],
    ]);
    expect(amounts('vouchers')).toEqual([[null, '12.00', '0.00', '12.00', 'chargeops', 'drivers']]);
    expect(statement.lines.filter((l) => ['sessions', 'vouchers', 'payment-processing'].includes(l.kind)).every((l) => !l.settles)).toBe(true);
  });

  it('works out the hand-worked figures to the cent', () => {
    expect(amounts('payment-processing')).toEqual([[null, '2.65', '0.00', '2.65', 'chargeops', 'payment-processor']]);
    expect(amounts('revenue-share')).toEqual([[null, '85.55', '17.11', '102.66', 'chargeops', 'alpina']]);
    expect(amounts('energy-pass-through')).toEqual([]);
    expect(amounts('service-fee')).toEqual([
      ['ALPINA-01', '39.00', '7.80', '46.80', 'alpina', 'chargeops'],
      ['ALPINA-02', '26.42', '5.28', '31.70', 'alpina', 'chargeops'],
    ]);
    expect(amounts('sla-credit')).toEqual([
      ['ALPINA-01', '3.90', '0.78', '4.68', 'chargeops', 'alpina'],
      [null, '28.81', '5.76', '34.57', 'chargeops', 'alpina'],
    ]);
    expect(statement.lines.find((l) => l.kind === 'sla-credit' && l.chargerId === null)!.description).toContain('limited by the credit cap, 50%');
    expect([statement.venuePays.toFixed(2), statement.operatorPays.toFixed(2)]).toEqual(['78.50', '141.91']);
    expect({ ...statement.due, amount: statement.due.amount.toFixed(2) }).toEqual({ amount: '63.41', payer: 'chargeops', payee: 'alpina' });
    expect(statement.vatByRate.map((r) => [r.vatPercent, r.net.toFixed(2), r.vat.toFixed(2)])).toEqual([[20, '-52.84', '-10.57']]);
    expect(statement.rounding).toContain('rounded once');
  });

  it('applies the most generous uptime tier a charger meets, not every tier', () => {
    const low = settleMonth({ ...figures, uptime: [{ chargerId: 'ALPINA-01', connectorId: 1, uptimePercent: 94 }], breaches: { response: 0, fix: 0 } });
    expect(low.lines.filter((l) => l.kind === 'sla-credit').map((l) => l.net.toFixed(2))).toEqual(['9.75']); // 25 % of 39.00
  });

  it('is the same statement every time it is computed from the same figures', () => {
    expect(JSON.stringify(settleMonth(figures))).toBe(JSON.stringify(statement));
  });

  it('caps credits by an amount where there is no service fee: GreenMart’s 100.00 per charger below 97 %, here at most 250.00 a month', () => {
    const four = greenmart.sites.flatMap((site) => site.chargers.map((c) => ({ chargerId: c.id, siteId: site.id })));
    expect(four).toHaveLength(3);
    const month = settleMonth({
      agreement: { ...greenmart, credits: { ...greenmart.credits, capAmount: '250.00' } },
      period: may,
      chargers: four.map((c) => ({ ...c, servedMs: 31 * DAY })),
      usage: [],
      uptime: four.map((c) => ({ chargerId: c.chargerId, connectorId: 1, uptimePercent: 96 })),
      breaches: { response: 0, fix: 0 },
    });
    const credits = month.lines.filter((l) => l.kind === 'sla-credit');
    expect(credits.map((l) => l.net.toFixed(2))).toEqual(['100.00', '100.00', '50.00']);
    expect(credits[2]!.description).toContain('limited by the credit cap, 250.00 a month');
    expect(month.lines.filter((l) => l.kind === 'service-fee')).toEqual([]);
    // 250.00 of credits plus 20 % VAT.
    expect({ amount: month.due.amount.toFixed(2), payer: month.due.payer }).toEqual({ amount: '300.00', payer: 'plugco' });
  });
});


/** A session's price under the agreement's tariff, as its CDR states it (OCPI's total_cost, each side rounded once). */
function cdrTotal(agreement: typeof greenmart, start: string, periods: { at: string; kWh: string | number; charging?: Decimal; parking?: Decimal }[]) {
  const tariff = tariffAt(agreement.pricing.driverTariffs, new Date(start))!;
  const priced = ocpiPrices(
    priceSession(tariff, { start: new Date(start), periods: periods.map((p) => ({ start: new Date(p.at), energyKwh: money(p.kWh), chargingHours: p.charging ?? money(0), parkingHours: p.parking ?? money(0) })) }, agreement.sites[0]!.timeZone),
  );
  return { exclVat: priced.total_cost.excl_vat, inclVat: priced.total_cost.incl_vat, tariffId: tariff.id };
}
const hours = (n: number, d = 1) => money(n).div(d);

/**
 * GreenMart Leeds, June 2026 (30 days, London), worked by hand in docs/settlement.md — from the
 * sessions under its OCPI tariff to the amount due. No service fee; credits capped at 300.00.
 * test/e2e/simulated-month.test.ts lives the same month over OCPP and gets the same statement.
 */
describe('GreenMart, June 2026, worked by hand', () => {
  const june = { start: new Date('2026-05-31T23:00:00Z'), end: new Date('2026-06-30T23:00:00Z') };
  const s1 = cdrTotal(greenmart, '2026-06-02T07:00:00Z', [{ at: '2026-06-02T07:00:00Z', kWh: 20, charging: hours(1) }]);
  const s2 = cdrTotal(greenmart, '2026-06-06T09:00:00Z', [
    { at: '2026-06-06T09:00:00Z', kWh: '22.5', charging: hours(3, 2) },
    { at: '2026-06-06T10:30:00Z', kWh: '7.5', charging: hours(1, 2) },
  ]);
  const s3 = cdrTotal(greenmart, '2026-06-15T17:00:00Z', [{ at: '2026-06-15T17:00:00Z', kWh: '12.5', charging: hours(2, 3) }]);

  it('prices the sessions under the tariff: weekday fee plus energy, the weekend bundle then time', () => {
    expect([s1, s2, s3].map((s) => [s.exclVat.toFixed(2), s.inclVat.toFixed(2)])).toEqual([
      ['14.10', '16.92'], // 0.30 + 20 × 0.69
      ['3.50', '4.20'], // 2.00 for the first 90 minutes, then 30 minutes at 3.00 an hour
      ['8.93', '10.71'], // 0.30 + 12.5 × 0.69 = 8.925 → 8.93; × 1.2 = 10.71
    ]);
  });

  it('settles the month to the cent: PlugCo pays GreenMart 142.67', () => {
    const charger = (chargerId: string, s: typeof s1, kWh: number) => ({ siteId: 'greenmart-leeds', chargerId, sessions: 1, energyKwh: money(kWh), paidExclVat: s.exclVat, paidInclVat: s.inclVat, listInclVat: s.inclVat });
    const statement = settleMonth({
      agreement: greenmart,
      period: june,
      chargers: ['GM-LDS-01', 'GM-LDS-02', 'GM-LDS-03'].map((chargerId) => ({ chargerId, siteId: 'greenmart-leeds', servedMs: 30 * DAY })),
      usage: [charger('GM-LDS-01', s1, 20), charger('GM-LDS-02', s2, 30), charger('GM-LDS-03', s3, 12.5)],
      // The ground fault on GM-LDS-02 excused (the utility's), GM-LDS-03 offline 28.8 store hours.
      uptime: [
        { chargerId: 'GM-LDS-01', connectorId: 1, uptimePercent: 100 },
        { chargerId: 'GM-LDS-02', connectorId: 1, uptimePercent: 100 },
        { chargerId: 'GM-LDS-03', connectorId: 1, uptimePercent: 96 },
        { chargerId: 'GM-LDS-03', connectorId: 2, uptimePercent: 96 },
      ],
      breaches: { response: 0, fix: 0 },
    });
    const amounts = (kind: string) => statement.lines.filter((l) => l.kind === kind).map((l) => [l.chargerId, l.net.toFixed(2), l.vat.toFixed(2), l.gross.toFixed(2), l.payer, l.payee]);
    expect(amounts('payment-processing')).toEqual([[null, '0.60', '0.00', '0.60', 'plugco', 'payment-processor']]);
    expect(amounts('revenue-share')).toEqual([[null, '3.89', '0.78', '4.67', 'plugco', 'greenmart']]);
    expect(amounts('energy-pass-through')).toEqual([[null, '15.00', '3.00', '18.00', 'plugco', 'greenmart']]);
    expect(amounts('service-fee')).toEqual([]);
    expect(amounts('sla-credit')).toEqual([['GM-LDS-03', '100.00', '20.00', '120.00', 'plugco', 'greenmart']]);
    expect([statement.venuePays.toFixed(2), statement.operatorPays.toFixed(2)]).toEqual(['0.00', '142.67']);
    expect({ ...statement.due, amount: statement.due.amount.toFixed(2) }).toEqual({ amount: '142.67', payer: 'plugco', payee: 'greenmart' });
    expect(statement.vatByRate.map((r) => [r.vatPercent, r.net.toFixed(2), r.vat.toFixed(2)])).toEqual([[20, '-118.89', '-23.78']]);
  });
});

/**
 * Harbour Estates, August 2026 (31 days, New York), worked by hand in docs/settlement.md: the first
 * month of the paid tariff (energy, time charging, idle time after 30 minutes), no sales tax,
 * service fees with one charger added mid-month, an uptime credit and a breaches credit.
 */
describe('Harbour Estates, August 2026, worked by hand', () => {
  const august = { start: new Date('2026-08-01T04:00:00Z'), end: new Date('2026-09-01T04:00:00Z') };
  const s1 = cdrTotal(harbour, '2026-08-03T23:00:00Z', [
    { at: '2026-08-03T23:00:00Z', kWh: 14, charging: hours(2) },
    { at: '2026-08-04T01:00:00Z', kWh: 0, parking: hours(1, 3) },
  ]);
  const s2 = cdrTotal(harbour, '2026-08-04T13:00:00Z', [{ at: '2026-08-04T13:00:00Z', kWh: '7.2', charging: hours(1) }]);
  const s3 = cdrTotal(harbour, '2026-08-05T12:30:00Z', [
    { at: '2026-08-05T12:30:00Z', kWh: 3, charging: hours(1, 3) },
    { at: '2026-08-05T12:50:00Z', kWh: 0, parking: hours(1, 6) },
    { at: '2026-08-05T13:00:00Z', kWh: 0, parking: hours(1, 6) },
  ]);

  it('prices the sessions under the residents’ tariff: idle time costs only after 30 minutes plugged in', () => {
    expect([s1, s2, s3].map((s) => [s.tariffId, s.exclVat.toFixed(2), s.inclVat.toFixed(2)])).toEqual([
      ['harbour-residents', '16.50', '16.50'], // 14 × 0.35 + 2 h × 1.80 + 20 idle min × 0.40
      ['harbour-residents', '4.32', '4.32'], // 7.2 × 0.35 + 1 h × 1.80
      ['harbour-residents', '5.65', '5.65'], // 3 × 0.35 + 20 min × 0.03 + (10 idle min free, within 30 min) + 10 idle min × 0.40
    ]);
  });

  it('settles the month to the cent: Harbour pays MetroCharge 158.67', () => {
    const usage = (siteId: string, chargerId: string, s: typeof s1, kWh: string) => ({ siteId, chargerId, sessions: 1, energyKwh: money(kWh), paidExclVat: s.exclVat, paidInclVat: s.inclVat, listInclVat: s.inclVat });
    const full = 31 * DAY;
    const statement = settleMonth({
      agreement: harbour,
      period: august,
      chargers: [
        { chargerId: 'HP-G1-01', siteId: 'harbour-point', servedMs: full },
        { chargerId: 'HP-G1-02', siteId: 'harbour-point', servedMs: full },
        { chargerId: 'HPL-L2-01', siteId: 'harbour-plaza', servedMs: full },
        { chargerId: 'HPL-L2-02', siteId: 'harbour-plaza', servedMs: full },
        // Added by a version effective 17 August 00:00 New York: 15 of 31 days.
        { chargerId: 'HPL-L2-03', siteId: 'harbour-plaza', servedMs: 15 * DAY },
      ],
      usage: [usage('harbour-point', 'HP-G1-01', s1, '14'), usage('harbour-plaza', 'HPL-L2-01', s2, '7.2'), usage('harbour-plaza', 'HPL-L2-02', s3, '3')],
      uptime: [
        { chargerId: 'HP-G1-01', connectorId: 1, uptimePercent: 100 },
        { chargerId: 'HP-G1-02', connectorId: 1, uptimePercent: 95.2 },
        { chargerId: 'HPL-L2-01', connectorId: 1, uptimePercent: 99 },
      ],
      breaches: { response: 3, fix: 1 },
    });
    const amounts = (kind: string) => statement.lines.filter((l) => l.kind === kind).map((l) => [l.chargerId, l.net.toFixed(2), l.vat.toFixed(2), l.payer, l.payee]);
    expect(amounts('payment-processing')).toEqual([[null, '0.79', '0.00', 'metrocharge', 'payment-processor']]);
    expect(amounts('revenue-share')).toEqual([[null, '25.68', '0.00', 'metrocharge', 'harbour']]);
    expect(amounts('energy-pass-through')).toEqual([[null, '5.08', '0.00', 'metrocharge', 'harbour']]);
    expect(amounts('service-fee')).toEqual([
      ['HPL-L2-01', '45.00', '0.00', 'harbour', 'metrocharge'],
      ['HPL-L2-02', '45.00', '0.00', 'harbour', 'metrocharge'],
      ['HPL-L2-03', '21.77', '0.00', 'harbour', 'metrocharge'],
      ['HP-G1-01', '45.00', '0.00', 'harbour', 'metrocharge'],
      ['HP-G1-02', '45.00', '0.00', 'harbour', 'metrocharge'],
    ]);
    expect(amounts('sla-credit')).toEqual([
      ['HP-G1-02', '2.25', '0.00', 'metrocharge', 'harbour'],
      [null, '10.09', '0.00', 'metrocharge', 'harbour'],
    ]);
    // The breaches credit says which clock's breaches it counts, so its evidence can list those incidents.
    expect(statement.lines.filter((l) => l.kind === 'sla-credit' && l.chargerId === null).map((l) => [l.quantity?.toFixed(), l.unit])).toEqual([['3', 'response breaches']]);
    expect([statement.venuePays.toFixed(2), statement.operatorPays.toFixed(2)]).toEqual(['201.77', '43.10']);
    expect({ ...statement.due, amount: statement.due.amount.toFixed(2) }).toEqual({ amount: '158.67', payer: 'harbour', payee: 'metrocharge' });
  });
});
