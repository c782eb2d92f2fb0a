import { DateTime, IANAZone } from 'luxon';

/**
 * Business-hours calendars for SLA clocks: which instants are open, and how much open time lies
 * between two instants. Pure and deterministic (runs inside the workflow sandbox): every
 * time-zone and DST question goes to luxon, never to the host's clock or zone.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
/** Local wall-clock span 'HH:mm'–'HH:mm'. `to` may be '24:00'. If `to` <= `from` the span runs overnight into the next day (e.g. 22:00–06:00). */
export interface DailySpan {
  from: string;
  to: string;
}
export interface BusinessCalendar {
  /** IANA zone, e.g. 'Europe/London'. */
  timeZone: string;
  /** true = 24/7 (weekly and holidays ignored). */
  alwaysOpen?: boolean;
  /** Open spans per weekday; several spans = split shift; a missing day = closed. */
  weekly: Partial<Record<Weekday, DailySpan[]>>;
  /** Local dates 'YYYY-MM-DD' on which the calendar is closed. A span belongs to the day it starts on: an overnight span starting on a holiday is skipped entirely; one starting the evening before a holiday runs into it normally. */
  holidays: string[];
}
export interface Interval {
  start: Date;
  end: Date;
}

/** Luxon numbers weekdays 1 (Monday) to 7 (Sunday). */
const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_MS = 86_400_000;
/** How far past `start` addBusinessTime looks for open time before giving up. */
const SEARCH_LIMIT_YEARS = 10;
const SEARCH_LIMIT_MS = (SEARCH_LIMIT_YEARS * 365 + 3) * DAY_MS;
const FIRST_WINDOW_MS = 14 * DAY_MS;
const MAX_WINDOW_MS = 366 * DAY_MS;
const LOCAL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A half-open range [start, end) of epoch milliseconds. */
interface Range {
  start: number;
  end: number;
}

/** A span ready to place on a date: minutes after local midnight, `to` on the next date if it ends there. */
interface CompiledSpan {
  fromMinute: number;
  toMinute: number;
  endsNextDay: boolean;
}

interface CompiledCalendar {
  zone: string;
  alwaysOpen: boolean;
  /** Index 0 = Monday. */
  weekly: CompiledSpan[][];
  holidays: ReadonlySet<string>;
}

/** The instant at which `durationMs` of open (business) time has elapsed after `start`, not counting time inside `pauses`. */
export function addBusinessTime(start: Date, durationMs: number, calendar: BusinessCalendar, pauses: Interval[] = []): Date {
  const from = epochMs(start, 'start');
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new RangeError(`durationMs must be a finite number >= 0, got ${durationMs}`);
  const compiled = compile(calendar);
  const paused = mergeRanges(toRanges(pauses));
  if (durationMs === 0) return new Date(from);
  if (!compiled.alwaysOpen && compiled.weekly.every((spans) => spans.length === 0)) {
    throw new Error(`business calendar (${calendar.timeZone}) has no open hours: it is not alwaysOpen and no weekday has a span`);
  }
  // Date holds whole milliseconds; the earliest whole-millisecond instant that reaches a fractional duration is the rounded-up one.
  let remaining = Math.ceil(durationMs);
  const limit = from + SEARCH_LIMIT_MS;
  let windowMs = FIRST_WINDOW_MS;
  for (let cursor = from; cursor < limit; ) {
    const windowEnd = Math.min(cursor + windowMs, limit);
    for (const open of subtractRanges(openRanges(cursor, windowEnd, compiled), paused)) {
      const length = open.end - open.start;
      if (length >= remaining) return new Date(open.start + remaining);
      remaining -= length;
    }
    cursor = windowEnd;
    windowMs = Math.min(windowMs * 2, MAX_WINDOW_MS);
  }
  throw new Error(
    `business calendar (${calendar.timeZone}) has not accumulated ${durationMs} ms of open time within ${SEARCH_LIMIT_YEARS} years after ${start.toISOString()} (${remaining} ms still missing)`,
  );
}

/** Open (business) milliseconds between `start` and `end` (0 if end <= start), minus time inside `pauses` (pauses may overlap each other; merge them). */
export function businessTimeBetween(start: Date, end: Date, calendar: BusinessCalendar, pauses: Interval[] = []): number {
  const from = epochMs(start, 'start');
  const to = epochMs(end, 'end');
  const compiled = compile(calendar);
  const paused = mergeRanges(toRanges(pauses));
  if (to <= from) return 0;
  return subtractRanges(openRanges(from, to, compiled), paused).reduce((total, open) => total + (open.end - open.start), 0);
}

/** The open intervals of the calendar that intersect [from, to), as UTC instants, merged where adjacent (e.g. 22:00–24:00 followed by 00:00–06:00). */
export function openIntervals(from: Date, to: Date, calendar: BusinessCalendar): Interval[] {
  // Clipped to [from, to): a 24/7 calendar has no edges of its own to report.
  return openRanges(epochMs(from, 'from'), epochMs(to, 'to'), compile(calendar)).map((open) => ({ start: new Date(open.start), end: new Date(open.end) }));
}

/** Validation helper for configs: returns a list of human-readable problems (bad zone, bad HH:mm, bad date), [] if fine. */
export function calendarProblems(calendar: BusinessCalendar): string[] {
  // Written for configs read at runtime, so it does not trust the static type.
  const problems: string[] = [];
  if (typeof calendar !== 'object' || calendar === null) return ['calendar: expected an object'];
  const { timeZone, alwaysOpen, weekly, holidays } = calendar as Partial<Record<keyof BusinessCalendar, unknown>>;
  if (typeof timeZone !== 'string' || !IANAZone.create(timeZone).isValid) {
    problems.push(`timeZone: ${JSON.stringify(timeZone)} is not an IANA time zone such as "Europe/London"`);
  }
  if (alwaysOpen !== undefined && typeof alwaysOpen !== 'boolean') problems.push(`alwaysOpen: ${JSON.stringify(alwaysOpen)} is not true or false`);
  if (typeof weekly !== 'object' || weekly === null || Array.isArray(weekly)) {
    problems.push(`weekly: expected an object of weekdays (${WEEKDAYS.join(', ')})`);
  } else {
    for (const [day, spans] of Object.entries(weekly)) {
      if (!(WEEKDAYS as readonly string[]).includes(day)) {
        problems.push(`weekly.${day}: not a weekday (expected one of ${WEEKDAYS.join(', ')})`);
        continue;
      }
      if (spans === undefined) continue;
      if (!Array.isArray(spans)) {
        problems.push(`weekly.${day}: expected a list of spans { from, to }`);
        continue;
      }
      spans.forEach((span: unknown, i) => {
        const { from, to } = (typeof span === 'object' && span !== null ? span : {}) as Partial<Record<keyof DailySpan, unknown>>;
        if (typeof from !== 'string' || !LOCAL_TIME.test(from)) {
          problems.push(`weekly.${day}[${i}].from: ${JSON.stringify(from)} is not a local time HH:mm (00:00–23:59)`);
        }
        if (typeof to !== 'string' || !(LOCAL_TIME.test(to) || to === '24:00')) {
          problems.push(`weekly.${day}[${i}].to: ${JSON.stringify(to)} is not a local time HH:mm (00:00–24:00)`);
        }
      });
    }
  }
  if (!Array.isArray(holidays)) {
    problems.push('holidays: expected a list of dates YYYY-MM-DD');
  } else {
    holidays.forEach((date: unknown, i) => {
      if (typeof date !== 'string' || !LOCAL_DATE.test(date) || !DateTime.fromISO(date, { zone: 'utc' }).isValid) {
        problems.push(`holidays[${i}]: ${JSON.stringify(date)} is not a date YYYY-MM-DD`);
      }
    });
  }
  return problems;
}

/**
 * Compiled calendars by their content. Validating and compiling a calendar costs more than the
 * arithmetic on it (a zone lookup, a date parse per holiday), and the same few calendars are asked
 * about over and over (every clock of every incident on a board). Bounded: cleared when full.
 */
const compiledCalendars = new Map<string, CompiledCalendar>();
const COMPILED_LIMIT = 256;

function compile(calendar: BusinessCalendar): CompiledCalendar {
  const key = JSON.stringify(calendar);
  const known = compiledCalendars.get(key);
  if (known) return known;
  const problems = calendarProblems(calendar);
  if (problems.length > 0) throw new Error(`invalid business calendar: ${problems.join('; ')}`);
  const compiled: CompiledCalendar = {
    zone: calendar.timeZone,
    alwaysOpen: calendar.alwaysOpen === true,
    weekly: WEEKDAYS.map((day) =>
      (calendar.weekly[day] ?? []).map((span) => {
        const fromMinute = minuteOfDay(span.from);
        const toMinute = minuteOfDay(span.to);
        // '24:00' is midnight at the end of the day, i.e. 00:00 of the next date.
        if (toMinute === 24 * 60) return { fromMinute, toMinute: 0, endsNextDay: true };
        return { fromMinute, toMinute, endsNextDay: toMinute <= fromMinute };
      }),
    ),
    holidays: new Set(calendar.holidays),
  };
  if (compiledCalendars.size >= COMPILED_LIMIT) compiledCalendars.clear();
  compiledCalendars.set(key, compiled);
  return compiled;
}

/** A local time 'HH:mm' as minutes after midnight. */
export function minuteOfDay(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/** The calendar's open time inside [from, to), merged, sorted and clipped to the bounds. */
function openRanges(from: number, to: number, calendar: CompiledCalendar): Range[] {
  if (to <= from) return [];
  if (calendar.alwaysOpen) return [{ start: from, end: to }];
  const first = DateTime.fromMillis(from, { zone: calendar.zone });
  const last = DateTime.fromMillis(to, { zone: calendar.zone });
  // Local dates as zone-less UTC days (epoch milliseconds of their midnight), so stepping a day is
  // pure calendar arithmetic. Start a day early: an overnight span that began the evening before
  // `from` may still be open at `from`.
  const lastDay = Date.UTC(last.year, last.month - 1, last.day);
  const ranges: Range[] = [];
  for (let day = Date.UTC(first.year, first.month - 1, first.day) - DAY_MS; day <= lastDay; day += DAY_MS) {
    const date = localDate(day);
    if (calendar.holidays.has(date.iso)) continue;
    for (const span of calendar.weekly[date.weekday] ?? []) {
      const start = wallClock(date, span.fromMinute, calendar.zone);
      const end = wallClock(span.endsNextDay ? nextLocalDate(date) : date, span.toMinute, calendar.zone);
      ranges.push({ start: Math.max(start, from), end: Math.min(end, to) });
    }
  }
  return mergeRanges(ranges);
}

export interface LocalDate {
  year: number;
  month: number;
  day: number;
  /** 'YYYY-MM-DD', as holidays are written. */
  iso: string;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** The date as a zone-less UTC day: epoch milliseconds of its midnight. */
  dayMs: number;
}

/** The local date whose UTC midnight is `dayMs`. */
function localDate(dayMs: number): LocalDate {
  const at = new Date(dayMs);
  const [year, month, day] = [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate()];
  const iso = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return { year, month, day, iso, weekday: (at.getUTCDay() + 6) % 7, dayMs };
}

/** The local date after `date`. */
export function nextLocalDate(date: LocalDate): LocalDate {
  return localDate(date.dayMs + DAY_MS);
}

/** An instant as a zone's wall clock shows it: the local date and the milliseconds since its midnight. */
export interface LocalMoment {
  date: LocalDate;
  msOfDay: number;
}

/** Where an instant falls in `zone`: its local date and time of day, by the zone's offset then. */
export function localMoment(instant: number, zone: string): LocalMoment {
  const local = instant + offsetMinutes(instant, zone) * 60_000;
  const dayMs = Math.floor(local / DAY_MS) * DAY_MS;
  return { date: localDate(dayMs), msOfDay: local - dayMs };
}

/**
 * A zone's UTC offsets, by hour of UTC time: one offset for an hour, or the instant within it at
 * which the offset changes. Asking the zone's rules (Intl, through luxon) costs microseconds, and
 * pricing asks about the same few hours for every session that overlaps them. Exact, given that no
 * zone changes its offset twice within one hour. Bounded: a zone's hours are cleared when full.
 */
const offsetsByZone = new Map<string, Map<number, number | OffsetChange>>();
const OFFSET_HOURS_LIMIT = 100_000;
const HOUR_MS = 3_600_000;

interface OffsetChange {
  before: number;
  /** The first instant with the new offset. */
  at: number;
  after: number;
}

function offsetMinutes(instant: number, zone: string): number {
  let hours = offsetsByZone.get(zone);
  if (!hours) {
    if (!IANAZone.create(zone).isValid) throw new RangeError(`${zone} is not an IANA time zone`);
    hours = new Map();
    offsetsByZone.set(zone, hours);
  }
  const hour = Math.floor(instant / HOUR_MS);
  let known = hours.get(hour);
  if (known === undefined) {
    known = offsetsOfHour(hour * HOUR_MS, IANAZone.create(zone));
    if (hours.size >= OFFSET_HOURS_LIMIT) hours.clear();
    hours.set(hour, known);
  }
  return typeof known === 'number' ? known : instant < known.at ? known.before : known.after;
}

/** The offset across the hour from `start`, or where it changes (bisected to the millisecond). */
function offsetsOfHour(start: number, zone: IANAZone): number | OffsetChange {
  const before = zone.offset(start);
  const after = zone.offset(start + HOUR_MS - 1);
  if (before === after) return before;
  let [low, high] = [start, start + HOUR_MS - 1];
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (zone.offset(middle) === before) low = middle;
    else high = middle;
  }
  return { before, at: high, after };
}

/**
 * Instants of local wall-clock times already resolved (zone, date, minute): resolving one asks the
 * zone's rules (Intl) several times, and a board asks about the same days for every incident.
 * Bounded: cleared when full.
 */
const wallClocks = new Map<string, number>();
const WALL_CLOCK_LIMIT = 100_000;

/**
 * The instant of a local wall-clock time on a local date in `zone`.
 *
 * A time that does not exist (the hour skipped when clocks go forward) is resolved by luxon:
 * it is read with the offset in force before the change, which moves it forward by the length of
 * the gap (01:30 in London on 2026-03-29 is 02:30 BST = 01:30Z). A span whose end the gap swallows
 * is shorter, or empty if its start moves to or past its end.
 *
 * A time that occurs twice (the hour repeated when clocks go back) resolves to its first
 * occurrence, the earlier instant (01:30 in London on 2026-10-25 is 01:30 BST = 00:30Z), as in
 * java.time and Temporal's 'compatible' mode. We choose it ourselves from getPossibleOffsets():
 * luxon's fromObject picks whichever offset the zone has at the current real time
 * (Settings.now()), so the same input would give different instants in summer and in winter.
 */
export function wallClock(date: LocalDate, minute: number, zone: string): number {
  const key = `${zone} ${date.iso} ${minute}`;
  const known = wallClocks.get(key);
  if (known !== undefined) return known;
  const local = DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour: Math.floor(minute / 60), minute: minute % 60 }, { zone });
  const instant = Math.min(...local.getPossibleOffsets().map((candidate) => candidate.toMillis()));
  if (wallClocks.size >= WALL_CLOCK_LIMIT) wallClocks.clear();
  wallClocks.set(key, instant);
  return instant;
}

/** Sorted, non-empty ranges with overlapping and touching ones joined. */
function mergeRanges(ranges: Range[]): Range[] {
  const merged: Range[] = [];
  for (const range of ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start)) {
    const previous = merged[merged.length - 1];
    if (previous && range.start <= previous.end) previous.end = Math.max(previous.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}

/** `open` minus `cut`; both sorted and merged. */
function subtractRanges(open: Range[], cut: Range[]): Range[] {
  const result: Range[] = [];
  let c = 0;
  for (const range of open) {
    let start = range.start;
    while (c < cut.length && (cut[c] as Range).end <= start) c++;
    for (let k = c; k < cut.length && (cut[k] as Range).start < range.end; k++) {
      const piece = cut[k] as Range;
      if (piece.start > start) result.push({ start, end: piece.start });
      start = Math.max(start, piece.end);
    }
    if (start < range.end) result.push({ start, end: range.end });
  }
  return result;
}

function toRanges(intervals: Interval[]): Range[] {
  return intervals.map((interval, i) => {
    const start = epochMs(interval.start, `pauses[${i}].start`);
    const end = epochMs(interval.end, `pauses[${i}].end`);
    if (end < start) throw new RangeError(`pauses[${i}] ends before it starts: ${interval.start.toISOString()} > ${interval.end.toISOString()}`);
    return { start, end };
  });
}

function epochMs(value: Date, name: string): number {
  // Duck-typed rather than instanceof: a Date may come from another realm (the workflow sandbox).
  const ms = typeof (value as Partial<Date> | null)?.getTime === 'function' ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`${name} must be a valid Date`);
  return ms;
}
