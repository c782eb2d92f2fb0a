import { plausible, storableTime } from './bounds.js';
import type { EnergyReading } from './events.js';

/**
 * One sampled value as stored (an element of meter_values.samples): OCPP's defaults filled in
 * (Energy.Active.Import.Register, in Wh), the value a decimal string as sent, to be scaled by
 * 10^exponent (2.0.1's unit multiplier; absent when 0). Absent fields are left out of the JSON.
 */
export interface MeterSample {
  measurand: string;
  phase: string | undefined;
  location: string | undefined;
  unit: string | undefined;
  context: string | undefined;
  value: string;
  exponent: number | undefined;
}

/** One meter value: the samples a charger took at one moment on one connector; a row of meter_values. */
export interface MeterValue {
  chargerId: string;
  connectorId: number;
  transactionId: string | null;
  /** UTC ISO text. */
  sampledAt: string;
  samples: MeterSample[];
}

const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

interface SampledValue16 {
  value: string;
  context?: string;
  format?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
}

export interface MeterValue16 {
  timestamp: string;
  sampledValue: SampledValue16[];
}

interface SampledValue201 {
  value: number;
  context?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unitOfMeasure?: { unit?: string; multiplier?: number };
}

export interface MeterValue201 {
  timestamp: string;
  sampledValue: SampledValue201[];
}

/** What both versions say about a sampled value. */
interface SampledFields {
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
  context?: string;
  value: string;
  exponent?: number;
}

/** Every sample object has the same fields in the same order (one shape for V8); undefined ones are not stored. */
function sample(sv: SampledFields): MeterSample {
  return {
    measurand: sv.measurand ?? DEFAULT_MEASURAND,
    phase: sv.phase || undefined,
    location: sv.location || undefined,
    unit: sv.unit ?? (sv.measurand === undefined || sv.measurand.startsWith('Energy') ? 'Wh' : undefined),
    context: sv.context,
    value: sv.value,
    exponent: sv.exponent || undefined,
  };
}

/**
 * The meter values that carry a time the database can hold (one per meter value, its samples share
 * it) and at least one usable sample. Written as loops: this runs for every MeterValues a gateway receives.
 */
function meterValues<SV>(chargerId: string, connectorId: number, transactionId: string | null, received: { timestamp: string; sampledValue: SV[] }[], usable: (sv: SV) => SampledFields | null): MeterValue[] {
  const values: MeterValue[] = [];
  for (const mv of received) {
    const sampledAt = storableTime(mv.timestamp);
    if (sampledAt === null) continue;
    const samples: MeterSample[] = [];
    for (const sv of mv.sampledValue) {
      const fields = usable(sv);
      if (fields) samples.push(sample(fields));
    }
    if (samples.length > 0) values.push({ chargerId, connectorId, transactionId, sampledAt, samples });
  }
  return values;
}

/** A 1.6 sampled value's number; null for signed data and other text, which are not readings. */
const number16 = (sv: SampledValue16) => (sv.format !== 'SignedData' && DECIMAL.test(sv.value) ? Number(sv.value) : null);

/** 1.6 sampled values are strings; those that are no number (signed data, text) or no plausible reading are skipped. */
export const valuesFrom16 = (chargerId: string, connectorId: number, transactionId: string | null, received: MeterValue16[]) =>
  meterValues(chargerId, connectorId, transactionId, received, (sv) => {
    const value = number16(sv);
    return value !== null && plausible(value) ? sv : null;
  });

/** 2.0.1 sampled values are numbers with an optional power-of-ten multiplier. */
export const valuesFrom201 = (chargerId: string, connectorId: number, transactionId: string | null, received: MeterValue201[]) =>
  meterValues(chargerId, connectorId, transactionId, received, (sv) =>
    plausible(sv.value, sv.unitOfMeasure?.multiplier)
      ? { measurand: sv.measurand, phase: sv.phase, location: sv.location, unit: sv.unitOfMeasure?.unit, context: sv.context, value: String(sv.value), exponent: sv.unitOfMeasure?.multiplier ?? 0 }
      : null,
  );

/** Where the first sampled value that is a number but not a plausible reading is (`[0].sampledValue[2]`); null when there is none. */
function firstImplausible<SV>(received: { sampledValue: SV[] }[], implausible: (sv: SV) => boolean): string | null {
  for (const [i, mv] of received.entries()) {
    for (const [j, sv] of mv.sampledValue.entries()) if (implausible(sv)) return `[${i}].sampledValue[${j}]`;
  }
  return null;
}

/** For a transaction message, which is refused rather than kept without such a reading: where its first implausible 1.6 reading is. */
export const implausibleSample16 = (received: MeterValue16[]) =>
  firstImplausible(received, (sv) => {
    const value = number16(sv);
    return value !== null && !plausible(value);
  });

/** The same for 2.0.1 readings, numbers with an optional power-of-ten multiplier. */
export const implausibleSample201 = (received: MeterValue201[]) => firstImplausible(received, (sv) => !plausible(sv.value, sv.unitOfMeasure?.multiplier));

/**
 * The energy register reading among the meter values, in Wh: the total (no phase) imported energy
 * at the outlet, the latest if there are several. kWh readings are scaled, not converted through floats.
 */
export function energyRegister(values: MeterValue[], context?: string): EnergyReading | null {
  let latest: { sampledAt: string; sample: MeterSample } | null = null;
  for (const { sampledAt, samples } of values) {
    for (const s of samples) {
      const register = s.measurand === DEFAULT_MEASURAND && s.phase === undefined && (s.location === undefined || s.location === 'Outlet') && (context === undefined || s.context === context);
      if (register && (!latest || sampledAt >= latest.sampledAt)) latest = { sampledAt, sample: s };
    }
  }
  if (!latest) return null;
  const unit = (latest.sample.unit ?? 'Wh').toLowerCase();
  if (unit !== 'wh' && unit !== 'kwh') return null;
  return { value: latest.sample.value, exponent: (latest.sample.exponent ?? 0) + (unit === 'kwh' ? 3 : 0) };
}
