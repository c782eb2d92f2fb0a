import type { EnergyReading } from './events.js';

/** One sampled value, normalised: the value as sent (a decimal string) scaled by 10^exponent, in `unit`. */
export interface MeterSample {
  connectorId: number;
  transactionId: string | null;
  sampledAt: string;
  measurand: string;
  phase: string;
  location: string;
  unit: string | null;
  context: string | null;
  value: string;
  exponent: number;
}

const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** Readings beyond this are not meter values but garbage that would fail the batch they are written in. */
const MAX_MAGNITUDE = 1e15;
const MAX_EXPONENT = 9;
const plausible = (value: number, exponent = 0) => Number.isFinite(value) && Math.abs(value) < MAX_MAGNITUDE && Math.abs(exponent) <= MAX_EXPONENT;

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

/** What both versions say about a sampled value, with OCPP's defaults filled in (Energy.Active.Import.Register, in Wh). */
interface SampledFields {
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
  context?: string;
  value: string;
  exponent: number;
}

/** One time per meter value (its samples share it), as UTC ISO text. */
const normalisedTime = (timestamp: string) => new Date(timestamp).toISOString();

function sample(connectorId: number, transactionId: string | null, sampledAt: string, sv: SampledFields): MeterSample {
  return {
    connectorId,
    transactionId,
    sampledAt,
    measurand: sv.measurand ?? DEFAULT_MEASURAND,
    phase: sv.phase ?? '',
    location: sv.location ?? '',
    unit: sv.unit ?? (sv.measurand === undefined || sv.measurand.startsWith('Energy') ? 'Wh' : null),
    context: sv.context ?? null,
    value: sv.value,
    exponent: sv.exponent,
  };
}

/** 1.6 sampled values are strings; signed data and other non-numbers are skipped (the raw frame is not a reading). */
export function samplesFrom16(connectorId: number, transactionId: string | null, meterValues: MeterValue16[]): MeterSample[] {
  return meterValues.flatMap((mv) => {
    const sampledAt = normalisedTime(mv.timestamp);
    return mv.sampledValue
      .filter((sv) => sv.format !== 'SignedData' && DECIMAL.test(sv.value) && plausible(Number(sv.value)))
      .map((sv) => sample(connectorId, transactionId, sampledAt, { ...sv, exponent: 0 }));
  });
}

/** 2.0.1 sampled values are numbers with an optional power-of-ten multiplier. */
export function samplesFrom201(connectorId: number, transactionId: string | null, meterValues: MeterValue201[]): MeterSample[] {
  return meterValues.flatMap((mv) => {
    const sampledAt = normalisedTime(mv.timestamp);
    return mv.sampledValue
      .filter((sv) => plausible(sv.value, sv.unitOfMeasure?.multiplier))
      .map((sv) =>
        sample(connectorId, transactionId, sampledAt, {
          measurand: sv.measurand,
          phase: sv.phase,
          location: sv.location,
          unit: sv.unitOfMeasure?.unit,
          context: sv.context,
          value: String(sv.value),
          exponent: sv.unitOfMeasure?.multiplier ?? 0,
        }),
      );
  });
}

/**
 * The energy register reading among the samples, in Wh: the total (no phase) imported energy at
 * the outlet, the latest if there are several. kWh readings are scaled, not converted through floats.
 */
export function energyRegister(samples: MeterSample[], context?: string): EnergyReading | null {
  const registers = samples.filter(
    (s) => s.measurand === DEFAULT_MEASURAND && s.phase === '' && (s.location === '' || s.location === 'Outlet') && (context === undefined || s.context === context),
  );
  const latest = registers.sort((a, b) => a.sampledAt.localeCompare(b.sampledAt)).at(-1);
  if (!latest) return null;
  const unit = (latest.unit ?? 'Wh').toLowerCase();
  if (unit !== 'wh' && unit !== 'kwh') return null;
  return { value: latest.value, exponent: latest.exponent + (unit === 'kwh' ? 3 : 0) };
}
