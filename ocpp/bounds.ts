/** The largest value of the database's `integer` columns, which hold connector ids and sequence numbers. */
const MAX_INTEGER = 2 ** 31 - 1;

/**
 * Readings beyond this are not meter values but garbage that would fail the batch they are written
 * in; below it (and so below 2^53) a JSON number still carries every digit the charger sent.
 */
const MAX_MAGNITUDE = 1e15;
const MAX_EXPONENT = 9;

/** A reading a meter can show: finite, of magnitude below 10^15, with a power-of-ten multiplier within ±9. */
export const plausible = (value: number, exponent = 0) => Number.isFinite(value) && Math.abs(value) < MAX_MAGNITUDE && Math.abs(exponent) <= MAX_EXPONENT;

/**
 * A charger's time as UTC ISO text, when it is one the database can hold: parsed, in the years 1
 * to 9999 (the schema's four-digit years allow year 0, which timestamptz refuses); null otherwise.
 */
export function storableTime(timestamp: unknown): string | null {
  if (typeof timestamp !== 'string') return null;
  const parsed = new Date(timestamp);
  const year = parsed.getUTCFullYear();
  return Number.isNaN(year) || year < 1 || year > 9999 ? null : parsed.toISOString();
}

/**
 * A call carrying a number outside what OCPP allows or what the central system can keep exactly.
 * The schema let it through (any integer is an integer); the gateway answers it with OCPP-J's
 * PropertyConstraintViolation (the payload is well-formed, one of its values is not acceptable)
 * and keeps it in rejected_frames, as it does a call strict validation refuses.
 */
export class OutOfBounds extends Error {
  override name = 'OutOfBounds';
}

/** A connector or EVSE id: OCPP's are integers ≥ 0 (0 is the charger as a whole), and ours fit the database's integer columns. */
export const isConnectorId = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_INTEGER;

/** Refuses the call unless `value` (when given) is a connector or EVSE id (isConnectorId). */
export function checkConnectorId(field: string, value: number | undefined): void {
  if (value !== undefined && !isConnectorId(value)) throw new OutOfBounds(`${field} is ${value}: expected an id from 0 to ${MAX_INTEGER}`);
}

/** Refuses the call unless a sequence number fits, like a connector id, between 0 and the database's integer maximum. */
export function checkSequenceNumber(field: string, value: number): void {
  if (!isConnectorId(value)) throw new OutOfBounds(`${field} is ${value}: expected a sequence number from 0 to ${MAX_INTEGER}`);
}

/** Refuses the call unless an integer the charger chose as an id (a 1.6 transaction id, an event id) survives JSON exactly. */
export function checkExactInteger(field: string, value: number | undefined): void {
  if (value !== undefined && !Number.isSafeInteger(value)) throw new OutOfBounds(`${field} is ${value}: expected an integer of magnitude at most ${Number.MAX_SAFE_INTEGER}`);
}

/** Refuses the call unless a register reading in Wh is plausible, by the bound MeterValues' readings are held to. */
export function checkReading(field: string, value: number): void {
  if (!plausible(value)) throw new OutOfBounds(`${field} is ${value}: not a plausible meter reading (expected a magnitude below ${MAX_MAGNITUDE})`);
}

/** Refuses the call when its meter values carry an implausible reading, at `where` (as implausibleSample16/201 tell it). */
export function checkSamples(field: string, where: string | null): void {
  if (where !== null) throw new OutOfBounds(`${field}${where} is not a plausible meter reading (expected a magnitude below ${MAX_MAGNITUDE} and a multiplier within ±9)`);
}
