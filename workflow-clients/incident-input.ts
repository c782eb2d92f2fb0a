import { incidentRules, termsForFault, siteIncidentChargerId, siteRef, targetsFor } from '../contracts/agreement-terms.js';
import type { Priority } from '../contracts/faults.js';
import type { DriverReport, FaultReport, IncidentInput, IncidentSource } from '../contracts/incident.js';
import type { SlaTargets } from '../contracts/sla.js';
import type { Db } from '../db/connect.js';
import { agreementForCharger } from '../agreements/store.js';

export interface IncidentOpening {
  chargerId: string;
  connectorId: number;
  source: IncidentSource;
  fault: FaultReport;
  /** What fault classes match on beyond the error code, e.g. an MREC tech code. */
  techCode?: string | null;
  /** The priority when no agreement's fault class applies. */
  defaultPriority: Priority;
  report?: DriverReport | null;
}

const CLASS_EVENT = { fault: 'faulted', offline: 'offline', 'driver-report': 'driver-report', 'maintenance-finding': 'maintenance-finding' } as const;

/**
 * The terms a new incident starts under: the charger's agreement version in force (priority from
 * its fault classes, SLA targets on its calendar in the site's zone, remote fix, verification,
 * escalation), else the configured defaults. Only used when the workflow starts; a running
 * incident keeps its terms.
 */
export async function incidentInputFor(db: Db, opening: IncidentOpening, defaultSla: SlaTargets): Promise<IncidentInput> {
  const base = { chargerId: opening.chargerId, connectorId: opening.connectorId, source: opening.source, faults: [opening.fault], report: opening.report ?? null };
  const inForce = await agreementForCharger(db, opening.chargerId);
  const signal = { status: opening.fault.status, errorCode: opening.fault.errorCode, techCode: opening.techCode ?? null, event: CLASS_EVENT[opening.source] };
  const terms = inForce && termsForFault(inForce.agreement, inForce.version, opening.chargerId, signal);
  if (!inForce || !terms) return { ...base, priority: opening.defaultPriority, sla: defaultSla, agreement: null, site: inForce ? siteRef(inForce.agreement, opening.chargerId) : null };
  return {
    ...base,
    priority: terms.priority,
    sla: terms.sla,
    agreement: { id: terms.agreementId, version: terms.agreementVersion, faultClass: terms.faultClass },
    site: siteRef(inForce.agreement, opening.chargerId),
    terms: incidentRules(inForce.agreement, terms.remoteFix),
  };
}

/**
 * The input of a whole-site incident (the agreement's whole-site-down rule): the site stands in for
 * the charger (`site:<id>`, connector 0), at the rule's priority and SLA targets; null if the
 * charger's agreement no longer covers the site.
 */
export async function siteIncidentInputFor(db: Db, chargerId: string, siteId: string, fault: FaultReport): Promise<IncidentInput | null> {
  const inForce = await agreementForCharger(db, chargerId);
  const site = inForce?.agreement.sites.find((s) => s.id === siteId);
  if (!inForce || !site) return null;
  const { priority } = inForce.agreement.incidents.wholeSiteDown;
  return {
    chargerId: siteIncidentChargerId(siteId),
    connectorId: 0,
    source: 'offline',
    faults: [fault],
    priority,
    sla: targetsFor(inForce.agreement, priority, siteId),
    agreement: { id: inForce.agreement.id, version: inForce.version, faultClass: 'whole-site-down' },
    site: { id: site.id, name: site.name, address: site.address, timeZone: site.timeZone },
    terms: incidentRules(inForce.agreement, false),
  };
}
