import ms from 'ms';
import { z } from 'zod';
import { calendarProblems } from './calendar.js';
import { PRIORITIES } from './faults.js';
import { PAUSE_REASONS } from './sla-clock.js';
import { TariffSchema } from './tariff.js';
import type { OutageCause } from './uptime.js';

/**
 * The service agreement model: every term a destination-charging service agreement must define.
 * `defineAgreement` gives compile-time checking; `parseAgreement` checks everything the compiler
 * cannot (references between fields, time zones, durations, amounts) and reports every problem.
 */

export const SERVICE_MODELS = ['turnkey-om', 'cpo-operated', 'managed-service', 'franchise-partner', 'portfolio'] as const;
/** Outage causes NEVI (23 CFR 680.116(b)) allows to exclude from uptime. */
export const EXCLUDABLE_CAUSES = ['utility', 'vandalism', 'scheduled-maintenance', 'vehicle', 'natural-disaster', 'outside-operating-hours'] as const satisfies readonly OutageCause[];

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a lower-case id of letters, digits and dashes');
/** OCPP identities become URL path segments and parts of workflow ids: keep them plain. */
export const CHARGER_ID = { pattern: /^[A-Za-z0-9._-]{1,48}$/, rule: 'up to 48 letters, digits, dots, dashes or underscores' } as const;
const chargerId = z.string().regex(CHARGER_ID.pattern, `expected an OCPP identity: ${CHARGER_ID.rule}`);
const isoDate = z.iso.date({ error: 'expected a date YYYY-MM-DD' });
const percent = z.number({ error: 'expected a number' }).min(0, 'expected 0–100').max(100, 'expected 0–100');
const money = z.string({ error: 'expected a decimal string such as "12.50"' }).regex(/^\d{1,9}(\.\d{1,4})?$/, 'expected a decimal string such as "12.50"');
const email = z.email({ error: 'expected an e-mail address' });
const duration = z
  .string({ error: 'expected a duration such as "30m", "4h" or "2d"' })
  .refine((value) => parseDuration(value) !== null, 'expected a duration such as "30m", "4h" or "2d"');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected a local time HH:mm (00:00–24:00)');
const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as "Europe/London"');

const Contact = z.strictObject({ name: z.string().min(1), email, phone: z.string().regex(/^\+?[0-9 ()-]{6,20}$/, 'expected a phone number').optional() });

const Party = z.strictObject({ name: z.string().min(1), contact: Contact.optional() });

const Span = z.strictObject({ from: hhmm, to: hhmm });
const Weekly = z.strictObject({
  mon: z.array(Span).optional(),
  tue: z.array(Span).optional(),
  wed: z.array(Span).optional(),
  thu: z.array(Span).optional(),
  fri: z.array(Span).optional(),
  sat: z.array(Span).optional(),
  sun: z.array(Span).optional(),
});
/** A named support calendar; its time zone is the site's. */
const Calendar = z.union([
  z.strictObject({ alwaysOpen: z.literal(true) }),
  z.strictObject({ weekly: Weekly, holidays: z.array(isoDate).default([]) }),
]);

const FaultClass = z.strictObject({
  name: id,
  /** What the charger reports: OCPP 1.6 error codes, 2.0.1 NotifyEvent tech codes (e.g. ChargeX MREC), or an event. */
  match: z.strictObject({
    ocppErrorCodes: z.array(z.string().min(1)).optional(),
    techCodes: z.array(z.string().min(1)).optional(),
    events: z.array(z.enum(['faulted', 'offline', 'driver-report', 'maintenance-finding'])).optional(),
  }),
  priority: z.enum(PRIORITIES),
  remoteFix: z.boolean().default(false),
});

const SlaTarget = z.strictObject({ respondWithin: duration, fixWithin: duration, calendar: z.string().min(1) });

const EscalationTrigger = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('response-elapsed'), percent }),
  z.strictObject({ kind: z.literal('fix-elapsed'), percent }),
  z.strictObject({ kind: z.literal('response-breached') }),
  z.strictObject({ kind: z.literal('fix-breached') }),
  z.strictObject({ kind: z.literal('unacknowledged-for'), after: duration }),
]);

const CreditRule = z.strictObject({
  when: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('uptime-below'), percent }),
    z.strictObject({ kind: z.literal('breaches-at-least'), clock: z.enum(['response', 'fix']), count: z.number().int().positive() }),
  ]),
  credit: z.union([z.strictObject({ percentOfFee: percent }), z.strictObject({ fixedAmount: money })]),
});

const partyRef = z.string().min(1);

export const AgreementSchema = z.strictObject({
  id,
  name: z.string().min(1),
  serviceModel: z.enum(SERVICE_MODELS),
  parties: z.record(id, Party),
  ownership: z.strictObject({ hardwareOwner: partyRef, cpmsContractOwner: partyRef, operator: partyRef, venue: partyRef, installer: partyRef }),
  sites: z
    .array(
      z.strictObject({
        id,
        name: z.string().min(1),
        address: z.string().min(1),
        timeZone,
        /** Operating hours of the site, for the uptime exclusion "outside operating hours"; a calendar name. */
        operatingHours: z.string().min(1),
        chargers: z.array(z.strictObject({ id: chargerId, model: z.string().min(1), connectors: z.number().int().min(1).max(16) })).min(1),
      }),
    )
    .min(1),
  calendars: z.record(z.string().min(1), Calendar),
  incidents: z.strictObject({
    faultClasses: z.array(FaultClass).min(1),
    offlineGracePeriod: duration,
    /** How long a remote fix waits for the charger to recover after each reset. */
    remoteFixWait: duration.default('5m'),
    /** Settle window: a fault that clears and returns within it is the same incident. */
    flappingWindow: duration,
    wholeSiteDown: z.strictObject({ offlinePercentAtLeast: percent, priority: z.enum(PRIORITIES) }),
  }),
  sla: z.strictObject({
    targets: z.strictObject({ P1: SlaTarget, P2: SlaTarget, P3: SlaTarget, P4: SlaTarget }),
    /** Start the clocks at the fault's reported time, at most this long before the incident opened. */
    retroactiveStartUpTo: duration.optional(),
    pauseReasons: z.array(z.enum(PAUSE_REASONS)),
    verificationWindow: duration,
    uptime: z.strictObject({
      targetPercent: percent,
      excludedCauses: z.array(z.enum(EXCLUDABLE_CAUSES)),
      caps: z.strictObject({ vandalismDaysPerEvent: z.number().positive().optional(), scheduledMaintenanceHoursPerYear: z.number().positive().optional() }).optional(),
    }),
  }),
  escalation: z
    .array(z.strictObject({ level: z.number().int().min(1), trigger: EscalationTrigger, contacts: z.array(Contact).min(1), repeatEvery: duration.optional() }))
    .min(1),
  warranty: z.strictObject({
    paidBy: z.strictObject({ hardware: partyRef, installation: partyRef, misuse: partyRef }),
    vendorWarranty: z.array(z.strictObject({ model: z.string().min(1), months: z.number().int().min(0) })),
  }),
  connectivity: z.strictObject({ simDataPlan: partyRef, router: partyRef, wifiCredentials: partyRef }),
  pricing: z.strictObject({
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code such as "EUR"'),
    serviceFeePerChargerMonthly: money,
    /**
     * What drivers pay, as OCPI 2.2.1 Tariff objects (contracts/tariff.ts); a session runs under the
     * first valid at its start (`start_date_time` / `end_date_time`), so a price change is a new
     * tariff with a start date.
     */
    driverTariffs: z.array(TariffSchema).min(1),
    access: z.enum(['free', 'public', 'whitelist']),
    voucherCodes: z.array(z.strictObject({ code: z.string().min(3), discountPercent: percent })).default([]),
    /** With `whitelist` access: the RFID cards / id tokens allowed to charge (vouchers are allowed too). */
    authorizedIdTags: z.array(z.string().min(1).max(36)).default([]),
    paymentProcessingFeePercent: percent,
    /** The venue's share of charging revenue after fees. */
    venueRevenueSharePercent: percent,
    energyCostPassThroughPerKwh: money,
    vatPercent: percent,
  }),
  settlement: z.strictObject({
    dayOfMonth: z.number().int().min(1).max(28),
    recipients: z.array(email).min(1),
    approvalBeforeSending: z.boolean(),
  }),
  /**
   * SLA credits and their monthly cap: a share of the month's service fees, or an amount (where
   * there is no service fee, as when the operator is paid from charging revenue), or both (the lower).
   */
  credits: z
    .strictObject({ rules: z.array(CreditRule), capPercentOfFee: percent.optional(), capAmount: money.optional() })
    .refine((c) => c.rules.length === 0 || c.capPercentOfFee !== undefined || c.capAmount !== undefined, 'expected a cap: capPercentOfFee, capAmount, or both'),
  dataAccess: z.record(z.string(), z.strictObject({ sessions: z.boolean(), reports: z.boolean(), export: z.boolean() })),
  maintenance: z.strictObject({ intervalDays: z.number().int().positive(), checklist: z.array(z.string().min(1)).min(1) }),
  term: z.strictObject({
    start: isoDate,
    end: isoDate.optional(),
    renewal: z.enum(['none', 'auto-yearly', 'auto-monthly']),
    noticePeriodDays: z.number().int().min(0),
  }),
});

export type AgreementInput = z.input<typeof AgreementSchema>;
export type Agreement = z.output<typeof AgreementSchema>;

/** Declares an agreement; the compiler rejects unknown or mistyped fields, `parseAgreement` the rest. */
export function defineAgreement(agreement: AgreementInput): AgreementInput {
  return agreement;
}

export interface AgreementProblem {
  path: string;
  message: string;
  found: unknown;
}

/** Validates an agreement: the schema, then references between its fields. Every problem, none skipped. */
export function parseAgreement(input: unknown): { agreement: Agreement; problems: [] } | { agreement: null; problems: AgreementProblem[] } {
  const parsed = AgreementSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue): AgreementProblem[] =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown field: not a term of the agreement model', found: valueAt(input, [...issue.path, key]) }))
        : [{ path: formatPath(issue.path), message: issue.message, found: valueAt(input, issue.path) }],
    );
    return { agreement: null, problems };
  }
  const problems = referenceProblems(parsed.data);
  return problems.length > 0 ? { agreement: null, problems } : { agreement: parsed.data, problems: [] };
}

function referenceProblems(a: Agreement): AgreementProblem[] {
  const problems: AgreementProblem[] = [];
  const problem = (path: string, message: string, found: unknown) => problems.push({ path, message, found });
  const parties = Object.keys(a.parties);
  const calendars = Object.keys(a.calendars);
  const partyMust = (path: string, value: string) => {
    if (!parties.includes(value)) problem(path, `expected one of the parties (${parties.join(', ')})`, value);
  };
  for (const [role, party] of Object.entries(a.ownership)) partyMust(`ownership.${role}`, party);
  for (const [what, party] of Object.entries(a.warranty.paidBy)) partyMust(`warranty.paidBy.${what}`, party);
  for (const [what, party] of Object.entries(a.connectivity)) partyMust(`connectivity.${what}`, party);
  for (const party of Object.keys(a.dataAccess)) partyMust(`dataAccess.${party}`, party);
  for (const [priority, target] of Object.entries(a.sla.targets)) {
    if (!calendars.includes(target.calendar)) problem(`sla.targets.${priority}.calendar`, `expected one of the calendars (${calendars.join(', ')})`, target.calendar);
    if (durationMs(target.fixWithin) < durationMs(target.respondWithin)) {
      problem(`sla.targets.${priority}.fixWithin`, `expected at least the response time (${target.respondWithin})`, target.fixWithin);
    }
  }
  const siteIds = new Set<string>();
  const chargerIds = new Set<string>();
  a.sites.forEach((site, s) => {
    if (siteIds.has(site.id)) problem(`sites.${s}.id`, 'expected a site id not used by another site', site.id);
    siteIds.add(site.id);
    if (!calendars.includes(site.operatingHours)) problem(`sites.${s}.operatingHours`, `expected one of the calendars (${calendars.join(', ')})`, site.operatingHours);
    site.chargers.forEach((charger, c) => {
      if (chargerIds.has(charger.id)) problem(`sites.${s}.chargers.${c}.id`, 'expected a charger id not listed twice', charger.id);
      chargerIds.add(charger.id);
    });
  });
  for (const [name, calendar] of Object.entries(a.calendars)) {
    if ('weekly' in calendar) {
      // The calendar helper's own rules (its time zone is the site's, checked above).
      for (const message of calendarProblems({ timeZone: 'UTC', ...calendar })) problem(`calendars.${name}`, message, calendar);
    }
    if ('weekly' in calendar && Object.values(calendar.weekly).every((spans) => !spans || spans.length === 0)) {
      problem(`calendars.${name}.weekly`, 'expected at least one open span in the week', calendar.weekly);
    }
  }
  a.escalation.forEach((level, i) => {
    if (level.level !== i + 1) problem(`escalation.${i}.level`, `expected level ${i + 1} here: levels are numbered in order from 1`, level.level);
  });
  const classes = new Set<string>();
  a.incidents.faultClasses.forEach((fc, i) => {
    if (classes.has(fc.name)) problem(`incidents.faultClasses.${i}.name`, 'expected a fault class name not used twice', fc.name);
    classes.add(fc.name);
    if (!fc.match.ocppErrorCodes?.length && !fc.match.techCodes?.length && !fc.match.events?.length) {
      problem(`incidents.faultClasses.${i}.match`, 'expected at least one error code, tech code or event', fc.match);
    }
  });
  const tariffIds = new Set<string>();
  a.pricing.driverTariffs.forEach((tariff, t) => {
    if (tariff.currency !== a.pricing.currency) problem(`pricing.driverTariffs.${t}.currency`, `expected the agreement's currency (${a.pricing.currency})`, tariff.currency);
    if (tariffIds.has(tariff.id)) problem(`pricing.driverTariffs.${t}.id`, 'expected a tariff id not used by another tariff', tariff.id);
    tariffIds.add(tariff.id);
  });
  if (a.term.end && a.term.end <= a.term.start) problem('term.end', `expected a date after term.start (${a.term.start})`, a.term.end);
  return problems;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(the agreement)';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Milliseconds of a positive duration such as "30m", "4h" or "2d"; null when it is not one. */
export function parseDuration(value: string): number | null {
  const millis = ms(value as ms.StringValue) as number | undefined;
  return typeof millis === 'number' && Number.isFinite(millis) && millis > 0 ? millis : null;
}

/** Milliseconds of an agreement duration string ("4h"); the schema has already checked it. */
export function durationMs(value: string): number {
  return parseDuration(value)!;
}
