import { durationMs, type Agreement } from './agreement.js';
import type { Priority } from './faults.js';
import type { BusinessCalendar } from './calendar.js';
import type { IncidentRules, SiteRef } from './incident.js';
import type { SlaTargets } from './sla.js';

/** What a charger reports, in the words fault classes match on. */
export interface ObservedFault {
  status: string;
  errorCode: string | null;
  techCode?: string | null;
  event: 'faulted' | 'offline' | 'driver-report' | 'maintenance-finding';
}

export interface TermsForFault {
  agreementId: string;
  agreementVersion: number;
  faultClass: string;
  priority: Priority;
  remoteFix: boolean;
  sla: SlaTargets;
}

/** A named calendar of the agreement in a site's time zone. */
export function calendarFor(agreement: Agreement, name: string, timeZone: string): BusinessCalendar {
  const calendar = agreement.calendars[name];
  if (!calendar) throw new Error(`agreement ${agreement.id} has no calendar "${name}"`);
  return 'alwaysOpen' in calendar ? { timeZone, alwaysOpen: true, weekly: {}, holidays: [] } : { timeZone, weekly: calendar.weekly, holidays: calendar.holidays };
}

/** The site of a charger under an agreement, or undefined if the agreement does not cover it. */
export function siteOf(agreement: Agreement, chargerId: string) {
  return agreement.sites.find((site) => site.chargers.some((c) => c.id === chargerId));
}

/**
 * The fault class that applies: the first whose error codes or tech codes name what was reported,
 * else the first whose events include the report's event; null when no class matches.
 */
export function matchFaultClass(agreement: Agreement, signal: ObservedFault) {
  const classes = agreement.incidents.faultClasses;
  return (
    classes.find((fc) => (signal.errorCode && fc.match.ocppErrorCodes?.includes(signal.errorCode)) || (signal.techCode && fc.match.techCodes?.includes(signal.techCode))) ??
    classes.find((fc) => fc.match.events?.includes(signal.event)) ??
    null
  );
}

/** The incident's priority and SLA targets under an agreement version, for a charger it covers; null if no fault class applies. */
export function termsForFault(agreement: Agreement, version: number, chargerId: string, signal: ObservedFault): TermsForFault | null {
  const site = siteOf(agreement, chargerId);
  const faultClass = matchFaultClass(agreement, signal);
  if (!site || !faultClass) return null;
  return {
    agreementId: agreement.id,
    agreementVersion: version,
    faultClass: faultClass.name,
    priority: faultClass.priority,
    remoteFix: faultClass.remoteFix,
    sla: targetsFor(agreement, faultClass.priority, site.id),
  };
}

/** The SLA targets of a priority under an agreement, on its calendar in the time zone of the given site (or of all its sites, when they share one). */
export function targetsFor(agreement: Agreement, priority: Priority, siteId?: string): SlaTargets {
  const zones = [...new Set(agreement.sites.map((s) => s.timeZone))];
  const site = siteId ? agreement.sites.find((s) => s.id === siteId) : undefined;
  if (siteId && !site) throw new Error(`agreement ${agreement.id} has no site "${siteId}"; sites: ${agreement.sites.map((s) => s.id).join(', ')}`);
  if (!site && zones.length > 1) throw new Error(`agreement ${agreement.id} has sites in several time zones (${zones.join(', ')}); name the site`);
  const target = agreement.sla.targets[priority];
  return {
    respondWithinMs: durationMs(target.respondWithin),
    fixWithinMs: durationMs(target.fixWithin),
    calendar: calendarFor(agreement, target.calendar, site?.timeZone ?? zones[0]!),
  };
}

/** The agreement's rules for running an incident of a fault class: remote fix, verification, flapping, pauses, escalation, checklist. */
export function incidentRules(agreement: Agreement, remoteFix: boolean): IncidentRules {
  return {
    agreementName: agreement.name,
    remoteFix,
    remoteFixWaitMs: durationMs(agreement.incidents.remoteFixWait),
    verificationWindowMs: durationMs(agreement.sla.verificationWindow),
    flappingWindowMs: durationMs(agreement.incidents.flappingWindow),
    retroactiveStartUpToMs: agreement.sla.retroactiveStartUpTo ? durationMs(agreement.sla.retroactiveStartUpTo) : null,
    pauseReasons: [...agreement.sla.pauseReasons],
    escalation: agreement.escalation.map((level) => ({
      level: level.level,
      trigger: level.trigger.kind === 'unacknowledged-for' ? { kind: 'unacknowledged-for', afterMs: durationMs(level.trigger.after) } : level.trigger,
      recipients: level.contacts.map((c) => ({ name: c.name, email: c.email })),
      repeatEveryMs: level.repeatEvery ? durationMs(level.repeatEvery) : null,
    })),
    checklist: [...agreement.maintenance.checklist],
  };
}

/** The site a charger is at under an agreement, as incidents and tasks show it. */
export function siteRef(agreement: Agreement, chargerId: string): SiteRef | null {
  const site = siteOf(agreement, chargerId);
  return site ? { id: site.id, name: site.name, address: site.address, timeZone: site.timeZone } : null;
}

/**
 * Whether the agreement's whole-site-down rule applies: at least its share of the site's chargers
 * are offline. Then one site incident (at the rule's priority) takes the offline chargers, instead
 * of an incident per charger.
 */
export function wholeSiteDown(agreement: Agreement, siteId: string, offlineChargers: number, chargers: number): boolean {
  if (chargers === 0) return false;
  return (offlineChargers / chargers) * 100 >= agreement.incidents.wholeSiteDown.offlinePercentAtLeast;
}

export const siteIncidentChargerId = (siteId: string) => `site:${siteId}`;
