import currencyCodes from 'currency-codes';
import { Decimal } from 'decimal.js';

/**
 * Money as exact decimals (decimal.js, never binary floats) and the one rounding rule every amount
 * Concierge states goes through: half up (away from zero on a tie), once, to the currency's ISO 4217
 * minor units. Amounts are computed unrounded and rounded only where they are stated: a CDR's
 * price fields, a statement's lines.
 */

/** Enough significant digits that no sum or product of prices and volumes is ever cut short. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type Money = Decimal;

/** The rule, as statements print it. */
export const ROUNDING_RULE = 'Each amount is computed exactly and rounded once, half up, to the currency’s ISO 4217 minor units.';

/** A decimal from a number (its shortest decimal text, e.g. 0.25 → "0.25") or a decimal string. */
export const money = (value: number | string | Decimal): Decimal => new Money(typeof value === 'number' ? String(value) : value);

const MINOR_UNITS = new Map<string, number>();

/** The ISO 4217 minor units of a currency (EUR 2, JPY 0, BHD 3); throws for a code ISO 4217 does not list. */
export function minorUnits(currency: string): number {
  let digits = MINOR_UNITS.get(currency);
  if (digits === undefined) {
    // currency-codes searches its whole list on each lookup; every priced amount asks, so each code is looked up once.
    digits = currencyCodes.code(currency)?.digits;
    if (digits === undefined) throw new Error(`${currency} is not an ISO 4217 currency code`);
    MINOR_UNITS.set(currency, digits);
  }
  return digits;
}

export function isCurrency(code: string): boolean {
  return currencyCodes.code(code)?.digits !== undefined;
}

/** Rounded once, half up, to the currency's minor units. */
export function roundMoney(amount: Decimal, currency: string): Decimal {
  return amount.toDecimalPlaces(minorUnits(currency), Decimal.ROUND_HALF_UP);
}

/** The amount as text with exactly the currency's minor units, e.g. "5.50". */
export function formatMoney(amount: Decimal, currency: string): string {
  return roundMoney(amount, currency).toFixed(minorUnits(currency));
}
