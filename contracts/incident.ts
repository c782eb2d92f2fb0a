import type { Priority } from './faults.js';
import type { SlaTargets } from './sla.js';

export type IncidentStatus = 'opened' | 'acknowledged' | 'resolved';

export type ActorRole = 'account-manager' | 'dispatcher' | 'technician' | 'venue' | 'system';

/** One report of a fault, as the gateway normalised it; `eventId` makes redelivery harmless. */
export interface FaultReport {
  eventId: string;
  status: string;
  errorCode: string;
  vendorErrorCode: string | null;
  info: string | null;
  at: string;
}

export interface Actor {
  id: string;
  name: string;
  role: ActorRole;
}

export interface StepRequest {
  actor: Actor;
  note?: string | null;
}

export interface IncidentStep {
  seq: number;
  step: string;
  actor: string;
  note: string | null;
  at: string;
}

export interface AgreementRef {
  id: string;
  version: number;
  faultClass: string;
}

export interface IncidentInput {
  chargerId: string;
  connectorId: number;
  priority: Priority;
  sla: SlaTargets;
  /** The agreement version the incident runs under (it keeps it even if the agreement changes); null when no agreement covers the charger. */
  agreement: AgreementRef | null;
  /** Faults carried over when a closed incident's late faults start the next one. */
  faults?: FaultReport[];
}

/** The incident as its workflow holds it; the database row is a projection of this. */
export interface Incident {
  id: string;
  workflowId: string;
  runId: string;
  chargerId: string;
  connectorId: number;
  priority: Priority;
  agreement: AgreementRef | null;
  status: IncidentStatus;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  respondBy: string;
  fixBy: string;
  responseBreached: boolean;
  fixBreached: boolean;
  faults: FaultReport[];
  steps: IncidentStep[];
  revision: number;
}

/** What changed since the last save: the row, plus faults and steps not yet written. */
export interface IncidentChange {
  incident: Omit<Incident, 'faults' | 'steps'>;
  newFaults: FaultReport[];
  newSteps: IncidentStep[];
}

export const incidentWorkflowId = (chargerId: string, connectorId: number) => `incident:${chargerId}:${connectorId}`;
