import type { Priority } from './faults.js';
import type { HumanStepName, StepBody } from './incident-steps.js';
import type { ActorRole } from './roles.js';
import type { Recipient } from './notifications.js';
import { PAUSE_REASONS, type PauseReason, type SlaClock } from './sla-clock.js';
import type { SlaTargets } from './sla.js';

/**
 * The incident engine's vocabulary, shared by the workflow, its activities and the API.
 *
 * Status is the phase of the work: `opened` (nobody has answered), `acknowledged` (answered,
 * waiting for dispatch), `remote-fix` (the charger is being reset from afar), `dispatched`
 * (a technician is assigned), `accepted` (they took it), `on-site`, `verifying` (fixed; the
 * charger must now stay healthy), then `resolved` or `cancelled`. Acknowledgement is recorded
 * apart from the phase (`acknowledgedAt`), since a remote fix may run before anyone answers.
 */
export const INCIDENT_STATUSES = ['opened', 'acknowledged', 'remote-fix', 'dispatched', 'accepted', 'on-site', 'verifying', 'resolved', 'cancelled'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const CLOSED_STATUSES: readonly IncidentStatus[] = ['resolved', 'cancelled'];

/** Charger statuses that say a connector (or, for connector 0, the charger) works; `Online` is a charger back after being offline. */
export const HEALTHY_STATUSES: ReadonlySet<string> = new Set(['Available', 'Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing', 'Occupied', 'Reserved', 'Online']);
/** Being worked on: not yet fixed (verifying) or closed. */
export const ACTIVE_STATUSES: readonly IncidentStatus[] = ['opened', 'acknowledged', 'remote-fix', 'dispatched', 'accepted', 'on-site'];

export type IncidentSource = 'fault' | 'offline' | 'driver-report' | 'maintenance-finding';

/** What the field crew found; the last five are causes NEVI lets an agreement exclude from uptime (contracts/port-outages.ts). */
export const ROOT_CAUSES = ['hardware', 'installation', 'misuse', 'connectivity', 'utility', 'vandalism', 'vehicle', 'scheduled-maintenance', 'natural-disaster', 'unknown'] as const;
export type RootCause = (typeof ROOT_CAUSES)[number];

export type { ActorRole };

/** One report of a fault, as the gateway normalised it; `eventId` makes redelivery harmless. */
export interface FaultReport {
  eventId: string;
  status: string;
  errorCode: string;
  vendorErrorCode: string | null;
  info: string | null;
  /** When the charger says it happened (its clock), else when it was received. */
  at: string;
  /** When Concierge received it (our clock); absent on reports made in the API and on older events. */
  receivedAt?: string;
}

/**
 * The terms a fault would open an incident under (its fault class's priority and SLA targets),
 * sent with it: a fault more urgent than the open incident it joins raises the incident's.
 */
export interface FaultTerms {
  priority: Priority;
  sla: SlaTargets;
  faultClass: string | null;
}

/** Whether priority `a` is more urgent than `b` (P1 is the most urgent). */
export const moreUrgent = (a: Priority, b: Priority): boolean => a < b;

/** What the charger said about the incident's connector since: statuses, reconnects, completed sessions. */
export interface ChargerReport {
  eventId: string;
  kind: 'status' | 'online' | 'session-completed';
  status: string;
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
  /**
   * The incident the step is meant for. A connector's workflow outlives its incidents (the next
   * one continues the same workflow), so a step for an earlier incident must be refused, not
   * taken on the current one.
   */
  incidentId?: string;
}

/** A step's request as the workflow receives it: what the person sent (contracts/incident-steps.ts), who they are, and for which incident. */
export type StepRequestOf<N extends HumanStepName> = StepRequest & Omit<StepBody<N>, 'note' | 'photoIds' | 'photos'> & (N extends 'fix' ? { photos?: Photo[] } : unknown);
export type AssignRequest = StepRequestOf<'assign'>;
export type DiagnoseRequest = StepRequestOf<'diagnose'>;
export type FixRequest = StepRequestOf<'fix'>;
export type PauseRequest = StepRequestOf<'pause'>;
export type CancelRequest = StepRequestOf<'cancel'>;

export interface Photo {
  /** The uploaded attachment, when the photo was uploaded through the API. */
  id?: string;
  name: string;
  contentType: string;
  sizeBytes: number;
}

/** Photos a fix may carry: at most this big, of these types (checked on upload and in the step). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/heic', 'image/webp'] as const;

/** An entry of the incident's timeline (besides its faults): steps, clock events, remote-fix attempts, escalations, charger statuses. */
export interface TimelineEntry {
  seq: number;
  step: string;
  actor: string;
  actorRole: ActorRole;
  note: string | null;
  data: Record<string, unknown> | null;
  at: string;
}

export interface AgreementRef {
  id: string;
  version: number;
  faultClass: string;
}

export interface SiteRef {
  id: string;
  name: string;
  address: string;
  /** The site's IANA time zone: times shown to people are in it. Absent in incidents opened before it was kept. */
  timeZone?: string;
}

export interface EscalationLevel {
  level: number;
  trigger: { kind: 'response-elapsed' | 'fix-elapsed'; percent: number } | { kind: 'response-breached' | 'fix-breached' } | { kind: 'unacknowledged-for'; afterMs: number };
  recipients: Recipient[];
  repeatEveryMs: number | null;
}

/** The agreement's rules for running one incident, resolved when it opens and kept for its life. */
export interface IncidentRules {
  agreementName: string | null;
  remoteFix: boolean;
  /** How long to wait for the charger to recover after each reset. */
  remoteFixWaitMs: number;
  verificationWindowMs: number;
  /** A fault returning within this long after resolution reopens the incident. */
  flappingWindowMs: number;
  /** Clocks may start at the fault's reported time, at most this long before the incident opened. */
  retroactiveStartUpToMs: number | null;
  pauseReasons: PauseReason[];
  escalation: EscalationLevel[];
  checklist: string[];
}

export interface DriverReport {
  description: string;
  reporter: { name: string; contact: string | null };
}

export interface IncidentInput {
  chargerId: string;
  connectorId: number;
  priority: Priority;
  sla: SlaTargets;
  /** The agreement version the incident runs under (it keeps it even if the agreement changes); null when no agreement covers the charger. */
  agreement: AgreementRef | null;
  site?: SiteRef | null;
  source?: IncidentSource;
  terms?: IncidentRules;
  report?: DriverReport | null;
  /** Faults carried over when a closed incident's late faults start the next one. */
  faults?: FaultReport[];
  /** Set when the workflow continues as new: the incident carries on from this state. */
  resume?: {
    incident: Incident;
    savedFaults: number;
    savedSteps: number;
    /** The charger reports' event ids seen lately, so a redelivered one is not recorded again. */
    signalsSeen?: string[];
  };
}

export interface Task {
  id: string;
  kind: 'dispatch';
  status: 'open' | 'claimed' | 'done' | 'cancelled';
  assignee: { id: string; name: string } | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** The fix clock's breach instant when last saved. */
  dueAt: string | null;
  checklist: string[];
}

export interface RemoteFixAttempt {
  kind: 'soft' | 'hard';
  at: string;
  answer: string;
  recovered: boolean;
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
  site: SiteRef | null;
  source: IncidentSource;
  report: DriverReport | null;
  status: IncidentStatus;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  cancelledAt: string | null;
  /** How it ended: 'verified', 'session-completed', 'closed-by-dispatcher', 'cancelled: <reason>'. */
  outcome: string | null;
  clocks: { response: SlaClock; fix: SlaClock };
  assignee: { id: string; name: string } | null;
  rootCause: { cause: RootCause; evidence: string | null } | null;
  verification: { startedAt: string; endsAt: string } | null;
  /**
   * Whether the charger's latest word on the connector says it works: a fault or a status outside
   * HEALTHY_STATUSES says not; a healthy status, a reconnect or a completed session says so.
   * Absent in runs from before it was kept (taken as healthy).
   */
  connectorHealthy?: boolean;
  /** Fixed, but the connector does not report healthy yet: verification starts when it does, or at `until` the fix has not taken. */
  awaitingHealthy?: { fixedBy: string; since: string; until: string } | null;
  remoteFix: RemoteFixAttempt[];
  tasks: Task[];
  /** Escalation notices sent, by key. */
  escalations: string[];
  terms: IncidentRules;
  faults: FaultReport[];
  steps: TimelineEntry[];
  revision: number;
  /**
   * Set when the database refused to store the incident as it is (a value it can never hold): the
   * projection is then written with such characters replaced, and operators are alerted.
   * Absent in incidents that began before this existed.
   */
  degraded?: DegradedProjection | null;
}

/** Why an incident's projection is not a faithful copy of its workflow's state, and since when. */
export interface DegradedProjection {
  since: string;
  cause: string;
}

/** The SLA columns of the projection, computed by the workflow on its own clock when it saves. */
export interface SlaSummary {
  respondBy: string | null;
  fixBy: string | null;
  responseBreached: boolean;
  fixBreached: boolean;
  responseEverBreached: boolean;
  fixEverBreached: boolean;
}

/** What changed since the last save: the state, plus faults and steps not yet written. */
export interface IncidentChange {
  incident: Omit<Incident, 'faults' | 'steps'>;
  sla: SlaSummary;
  newFaults: FaultReport[];
  newSteps: TimelineEntry[];
}

export const incidentWorkflowId = (chargerId: string, connectorId: number) => `incident:${chargerId}:${connectorId}`;

/** Terms for chargers no agreement covers: no remote fix, no escalation, every pause reason. */
export const DEFAULT_INCIDENT_RULES: IncidentRules = {
  agreementName: null,
  remoteFix: false,
  remoteFixWaitMs: 5 * 60_000,
  verificationWindowMs: 15 * 60_000,
  flappingWindowMs: 10 * 60_000,
  retroactiveStartUpToMs: null,
  pauseReasons: [...PAUSE_REASONS],
  escalation: [],
  checklist: ['Connector and cable inspected', 'Test charge completed'],
};
