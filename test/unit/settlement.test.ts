import { describe, expect, it } from 'vitest';
import { parseAgreement } from '../../contracts/agreement.js';
import alpinaInput from '../../contracts/agreements/hotel-alpina.js';
import greenmartInput from '../../contracts/agreements/greenmart-retail.js';
import { money } from '../../contracts/money.js';
import { settleMonth, type MonthFigures } from '../../contracts/settlement.js';

const parsed = (input: unknown) => {
  const result = parseAgreement(input);
  if (!result.agreement) throw new Error(JSON.stringify(result.problems));
  return result.agreement;
};
const alpina = parsed(alpinaInput);
const greenmart = parsed(greenmartInput);
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

