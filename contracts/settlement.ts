import type { Decimal } from 'decimal.js';
import type { Agreement } from './agreement.js';
import { money, Money, roundMoney, ROUNDING_RULE } from './money.js';

/**
 * A month's statement between the agreement's operator and its venue, as lines of who pays whom,
 * computed from the month's figures (what the CDRs add up to, the chargers' days in service, each
 * port's uptime, the SLA breaches). Pure and exact: every amount is computed unrounded and each
 * line's net and VAT are rounded once (contracts/money.ts). docs/settlement.md works one statement
 * of each shipped agreement by hand from the same rules.
 */

export interface ChargerService {
  chargerId: string;
  siteId: string;
  /** Milliseconds of the month the agreement covered the charger (pro rata for one added or removed mid-month). */
  servedMs: number;
}

export interface ChargerUsage {
  siteId: string;
  chargerId: string;
  sessions: number;
  energyKwh: Decimal;
  /** What drivers paid (the CDRs' total_cost, after vouchers). */
  paidExclVat: Decimal;
  paidInclVat: Decimal;
  /** The CDRs' list price incl. VAT (before vouchers). */
  listInclVat: Decimal;
}

export interface PortUptimeFigure {
  chargerId: string;
  connectorId: number;
  uptimePercent: number;
}

export interface MonthFigures {
  agreement: Agreement;
  period: { start: Date; end: Date };
  chargers: ChargerService[];
  usage: ChargerUsage[];
  uptime: PortUptimeFigure[];
  /** Incidents of the month whose response / fix clock breached. */
  breaches: { response: number; fix: number };
}

export type LineKind = 'sessions' | 'vouchers' | 'payment-processing' | 'revenue-share' | 'energy-pass-through' | 'service-fee' | 'sla-credit';

export interface StatementLine {
  kind: LineKind;
  description: string;
  siteId: string | null;
  chargerId: string | null;
  /** Party ids of the agreement, or `drivers` / `payment-processor`. */
  payer: string;
  payee: string;
  quantity: Decimal | null;
  unit: string | null;
  net: Decimal;
  vatPercent: number;
  vat: Decimal;
  gross: Decimal;
  /** Counts toward the amount due between operator and venue; otherwise shown to explain the others. */
  settles: boolean;
}

export interface Statement {
  currency: string;
  operator: string;
  venue: string;
  lines: StatementLine[];
  /** VAT of the settling lines, per rate. */
  vatByRate: { vatPercent: number; net: Decimal; vat: Decimal }[];
  venuePays: Decimal;
  operatorPays: Decimal;
  /** What is due, and who pays it. */
  due: { amount: Decimal; payer: string | null; payee: string | null };
  rounding: string;
}

/** Computes a month's statement from its figures. */
export function settleMonth(figures: MonthFigures): Statement {
  const { agreement, period } = figures;
  const { pricing } = agreement;
  const currency = pricing.currency;
  const operator = agreement.ownership.operator;
  const venue = agreement.ownership.venue;
  const round = (amount: Decimal) => roundMoney(amount, currency);
  const vatRate = pricing.vatPercent;
  const lines: StatementLine[] = [];
  /** A line whose net is exact: net and VAT each rounded once. */
  const line = (fields: Omit<StatementLine, 'net' | 'vat' | 'gross' | 'vatPercent'> & { exactNet: Decimal; vatPercent?: number }) => {
    const { exactNet, vatPercent = vatRate, ...rest } = fields;
    const net = round(exactNet);
    const vat = round(exactNet.times(vatPercent).div(100));
    lines.push({ ...rest, net, vatPercent, vat, gross: net.plus(vat) });
  };
  const zero = money(0);
  const sum = <T>(items: T[], pick: (t: T) => Decimal) => items.reduce((s, t) => s.plus(pick(t)), zero);

  // What drivers paid, per charger (information: the operator collects it).
  const usage = [...figures.usage].sort((a, b) => a.siteId.localeCompare(b.siteId) || a.chargerId.localeCompare(b.chargerId));
  for (const u of usage) {
    lines.push({
      kind: 'sessions',
      description: `${u.sessions} session${u.sessions === 1 ? '' : 's'}, ${u.energyKwh.toDecimalPlaces(3).toFixed()} kWh: paid by drivers`,
      siteId: u.siteId,
      chargerId: u.chargerId,
      payer: 'drivers',
      payee: operator,
      quantity: u.energyKwh,
      unit: 'kWh',
      net: u.paidExclVat,
      vatPercent: vatRate,
      vat: u.paidInclVat.minus(u.paidExclVat),
      gross: u.paidInclVat,
      settles: false,
    });
  }
  const voucherDiscount = sum(usage, (u) => u.listInclVat.minus(u.paidInclVat));
  if (voucherDiscount.gt(0)) {
    lines.push({ kind: 'vouchers', description: 'Voucher discounts given to drivers (incl. VAT)', siteId: null, chargerId: null, payer: operator, payee: 'drivers', quantity: null, unit: null, net: voucherDiscount, vatPercent: 0, vat: zero, gross: voucherDiscount, settles: false });
  }

  // The venue's share of charging revenue after payment processing fees.
  const paidExcl = sum(usage, (u) => u.paidExclVat);
  const paidIncl = sum(usage, (u) => u.paidInclVat);
  const processing = paidIncl.times(pricing.paymentProcessingFeePercent).div(100);
  if (processing.gt(0)) {
    line({ kind: 'payment-processing', description: `Payment processing, ${pricing.paymentProcessingFeePercent}% of ${round(paidIncl).toFixed(2)} paid by drivers`, siteId: null, chargerId: null, payer: operator, payee: 'payment-processor', quantity: null, unit: null, exactNet: processing, vatPercent: 0, settles: false });
  }
  const shareBasis = Money.max(paidExcl.minus(processing), zero);
  if (pricing.venueRevenueSharePercent > 0 && shareBasis.gt(0)) {
    line({
      kind: 'revenue-share',
      description: `Revenue share, ${pricing.venueRevenueSharePercent}% of net charging revenue ${round(shareBasis).toFixed(2)} (paid by drivers excl. VAT, less payment processing)`,
      siteId: null,
      chargerId: null,
      payer: operator,
      payee: venue,
      quantity: null,
      unit: null,
      exactNet: shareBasis.times(pricing.venueRevenueSharePercent).div(100),
      settles: true,
    });
  }

  // The venue's electricity the chargers used, reimbursed per kWh.
  const energy = sum(usage, (u) => u.energyKwh);
  const passThrough = money(pricing.energyCostPassThroughPerKwh);
  if (passThrough.gt(0) && energy.gt(0)) {
    line({ kind: 'energy-pass-through', description: `Energy cost pass-through, ${energy.toDecimalPlaces(3).toFixed()} kWh at ${pricing.energyCostPassThroughPerKwh}`, siteId: null, chargerId: null, payer: operator, payee: venue, quantity: energy, unit: 'kWh', exactNet: energy.times(passThrough), settles: true });
  }

  // Service fees per charger, pro rata for days not covered.
  const monthMs = period.end.getTime() - period.start.getTime();
  const fee = money(pricing.serviceFeePerChargerMonthly);
  const fees = new Map<string, Decimal>();
  const chargers = [...figures.chargers].sort((a, b) => a.siteId.localeCompare(b.siteId) || a.chargerId.localeCompare(b.chargerId));
  for (const c of chargers) {
    const share = money(Math.min(c.servedMs, monthMs)).div(monthMs);
    const exact = fee.times(share);
    fees.set(c.chargerId, exact);
    if (fee.gt(0) && c.servedMs > 0) {
      const whole = c.servedMs >= monthMs;
      line({
        kind: 'service-fee',
        description: `Service fee ${pricing.serviceFeePerChargerMonthly} per month${whole ? '' : `, pro rata ${share.times(100).toDecimalPlaces(2).toFixed()}% of the month`}`,
        siteId: c.siteId,
        chargerId: c.chargerId,
        payer: venue,
        payee: operator,
        quantity: share,
        unit: 'month',
        exactNet: exact,
        settles: true,
      });
    }
  }

  // SLA credits: per charger for its worst port's uptime (the largest credit of the rules it meets),
  // then agreement-wide for breaches; all within the cap, in that order.
  const totalFee = sum([...fees.values()], (f) => f);
  const { capPercentOfFee, capAmount } = agreement.credits;
  const caps = [capPercentOfFee !== undefined ? totalFee.times(capPercentOfFee).div(100) : null, capAmount !== undefined ? money(capAmount) : null].filter((c): c is Decimal => c !== null);
  let capLeft = caps.length ? Money.min(...caps) : zero;
  const capText = [capPercentOfFee !== undefined ? `${capPercentOfFee}% of the service fees` : null, capAmount !== undefined ? `${capAmount} a month` : null].filter(Boolean).join(', at most ');
  const creditOf = (credit: Agreement['credits']['rules'][number]['credit'], base: Decimal) => ('percentOfFee' in credit ? base.times(credit.percentOfFee).div(100) : money(credit.fixedAmount));
  const credit = (description: string, chargerId: string | null, siteId: string | null, exact: Decimal, counted: { quantity: Decimal; unit: string } | null = null) => {
    const allowed = Money.min(exact, capLeft);
    if (allowed.lte(0)) return;
    capLeft = capLeft.minus(allowed);
    line({ kind: 'sla-credit', description: allowed.lt(exact) ? `${description} (limited by the credit cap, ${capText})` : description, siteId, chargerId, payer: operator, payee: venue, quantity: counted?.quantity ?? null, unit: counted?.unit ?? null, exactNet: allowed, settles: true });
  };
  const uptimeRules = agreement.credits.rules.filter((r) => r.when.kind === 'uptime-below');
  for (const c of chargers) {
    const ports = figures.uptime.filter((u) => u.chargerId === c.chargerId);
    if (ports.length === 0) continue;
    const worst = ports.reduce((a, b) => (b.uptimePercent < a.uptimePercent ? b : a));
    const met = uptimeRules.filter((r) => r.when.kind === 'uptime-below' && worst.uptimePercent < r.when.percent);
    const best = met.map((r) => ({ rule: r, amount: creditOf(r.credit, fees.get(c.chargerId) ?? zero) })).sort((a, b) => b.amount.comparedTo(a.amount))[0];
    if (best && best.rule.when.kind === 'uptime-below') credit(`SLA credit: uptime ${worst.uptimePercent}% on port ${worst.connectorId}, below ${best.rule.when.percent}%`, c.chargerId, c.siteId, best.amount);
  }
  for (const rule of agreement.credits.rules) {
    if (rule.when.kind !== 'breaches-at-least') continue;
    const count = figures.breaches[rule.when.clock];
    if (count >= rule.when.count) credit(`SLA credit: ${count} ${rule.when.clock} breaches (at least ${rule.when.count})`, null, null, creditOf(rule.credit, totalFee), { quantity: money(count), unit: `${rule.when.clock} breaches` });
  }

  const settling = lines.filter((l) => l.settles);
  const venuePays = sum(settling.filter((l) => l.payer === venue), (l) => l.gross);
  const operatorPays = sum(settling.filter((l) => l.payer === operator), (l) => l.gross);
  const net = venuePays.minus(operatorPays);
  const rates = [...new Set(settling.map((l) => l.vatPercent))].sort((a, b) => a - b);
  return {
    currency,
    operator,
    venue,
    lines,
    vatByRate: rates.map((rate) => {
      const at = settling.filter((l) => l.vatPercent === rate);
      const signed = (l: StatementLine, v: Decimal) => (l.payer === venue ? v : v.negated());
      return { vatPercent: rate, net: sum(at, (l) => signed(l, l.net)), vat: sum(at, (l) => signed(l, l.vat)) };
    }),
    venuePays,
    operatorPays,
    due: net.isZero() ? { amount: zero, payer: null, payee: null } : net.gt(0) ? { amount: net, payer: venue, payee: operator } : { amount: net.negated(), payer: operator, payee: venue },
    rounding: `${ROUNDING_RULE} Each line's net amount and its VAT are rounded once, each from its exact value; a line's gross is their sum.`,
  };
}
