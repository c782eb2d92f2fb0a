import type { ColumnType, Generated } from 'kysely';

/** Timestamps are stored as timestamptz; we write ISO strings or Dates and read Dates. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json = ColumnType<unknown, string, string>;

import type { Priority } from '../contracts/faults.js';
import type { IncidentStatus } from '../contracts/incident.js';
import type { Role } from '../contracts/roles.js';

export type { Role };

export interface ApiTokensTable {
  id: string;
  tokenHash: string;
  role: Role;
  name: string;
  createdAt: CreatedAt;
  /** What the token may see: a technician's agreements, a venue's sites; null = everything its role may see. */
  scope: ColumnType<TokenScope | null, string | null | undefined, string | null>;
  /** The admin token set by CONCIERGE_ADMIN_TOKEN or generated at the first start (at most one). */
  bootstrap: Generated<boolean>;
  /** Where the holder receives sign-in links (migrations/0019); optional. */
  email: string | null;
}

export interface TokenScope {
  agreements?: string[];
  sites?: string[];
}

export interface ChargersTable {
  id: string;
  passwordHash: string;
  siteId: string | null;
  vendor: string | null;
  model: string | null;
  serialNumber: string | null;
  firmwareVersion: string | null;
  protocol: string | null;
  connected: Generated<boolean>;
  gatewayNode: string | null;
  connectedAt: Timestamp | null;
  lastSeenAt: Timestamp | null;
  bootedAt: Timestamp | null;
  registeredAt: CreatedAt;
  /** `pending` until commissioned: its BootNotification is answered Pending. */
  state: Generated<ChargerState>;
  /** Which socket holds the charger now; a stale socket's close does not match it. */
  connectionId: string | null;
  /** Disconnected by Concierge's own gateway stopping or restarting, not by the charger. */
  disconnectedByGateway: Generated<boolean>;
  /** When a gateway was back for a charger it had disconnected; its absence counts from then. */
  gatewayBackAt: Timestamp | null;
}

export type ChargerState = 'pending' | 'active';

/** Latest known status per connector; connector 0 is the charger as a whole. */
export interface ConnectorStatusTable {
  chargerId: string;
  connectorId: number;
  status: string;
  errorCode: string | null;
  vendorErrorCode: string | null;
  info: string | null;
  at: Timestamp;
}

/** Every status report as received, never updated. */
export interface StatusLogTable {
  id: Generated<string>;
  chargerId: string;
  connectorId: number;
  status: string;
  errorCode: string | null;
  vendorErrorCode: string | null;
  info: string | null;
  reportedAt: Timestamp;
  receivedAt: CreatedAt;
  protocol: string;
  payload: Json;
}

/** Events waiting to be delivered to Temporal; written in the same transaction as the fact. */
export interface OutboxTable {
  id: Generated<string>;
  chargerId: string;
  kind: string;
  payload: Json;
  createdAt: CreatedAt;
  attempts: Generated<number>;
  lastError: string | null;
  nextAttemptAt: Generated<Date>;
  deliveredAt: Timestamp | null;
  /** Set aside: Temporal refused the event for good; kept for an operator, never retried on its own. */
  deadLetteredAt: Timestamp | null;
}

/** The incident projection: written only by the incident workflow's activities. */
export interface IncidentsTable {
  id: string;
  workflowId: string;
  runId: string;
  chargerId: string;
  connectorId: number;
  status: IncidentStatus;
  priority: Priority;
  openedAt: Timestamp;
  acknowledgedAt: Timestamp | null;
  resolvedAt: Timestamp | null;
  respondBy: Timestamp | null;
  fixBy: Timestamp | null;
  responseBreached: boolean;
  fixBreached: boolean;
  revision: number;
  updatedAt: Timestamp;
  agreementId: string | null;
  agreementVersion: number | null;
  siteId: string | null;
  source: Generated<string>;
  assigneeId: string | null;
  cycle: Generated<number>;
  responseEverBreached: Generated<boolean>;
  fixEverBreached: Generated<boolean>;
  /** The incident as its workflow holds it (clocks, cycles, tasks, root cause), minus faults and steps. */
  state: Json | null;
  /** Set while the projection is saved with characters the database refused replaced: when that began, and why. */
  degradedSince: Timestamp | null;
  degradedCause: string | null;
}

export interface IncidentFaultsTable {
  incidentId: string;
  eventId: string;
  status: string;
  errorCode: string;
  vendorErrorCode: string | null;
  info: string | null;
  at: Timestamp;
  /** When Concierge received it; null for reports made in the API. */
  receivedAt: Timestamp | null;
}

export interface IncidentStepsTable {
  incidentId: string;
  seq: number;
  step: string;
  actor: string;
  actorRole: string | null;
  note: string | null;
  data: Json | null;
  at: Timestamp;
}

/** A field-crew task, projected from the incident that owns it. */
export interface TasksTable {
  id: string;
  incidentId: string;
  kind: string;
  status: 'open' | 'claimed' | 'done' | 'cancelled';
  agreementId: string | null;
  siteId: string | null;
  chargerId: string;
  connectorId: number;
  assigneeId: string | null;
  assigneeName: string | null;
  dueAt: Timestamp | null;
  detail: Json;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  completedAt: Timestamp | null;
}

/** An escalation e-mail as sent; the key makes a retried send a no-op. */
export interface NotificationsTable {
  key: string;
  incidentId: string;
  level: number;
  trigger: string;
  recipients: Json;
  subject: string;
  messageId: string | null;
  sentAt: Timestamp;
}

/** Every version of every agreement ever loaded; the newest not removed is in force. */
export interface AgreementVersionsTable {
  agreementId: string;
  version: number;
  effectiveFrom: Timestamp;
  contentHash: string;
  content: Json;
  removedAt: Timestamp | null;
}

export interface AgreementChargersTable {
  chargerId: string;
  agreementId: string;
  siteId: string;
}

/** A call strict validation rejected, as received; `salvaged` when a status was still recovered from it. */
export interface RejectedFramesTable {
  id: Generated<string>;
  chargerId: string;
  protocol: string;
  method: string;
  messageId: string;
  payload: Json;
  reason: string;
  salvaged: boolean;
  receivedAt: CreatedAt;
}

/** A charging session; energy comes from meter register readings, so a repeated message cannot add to it. */
export interface SessionsTable {
  id: Generated<string>;
  chargerId: string;
  connectorId: number;
  transactionId: string;
  startKey: string | null;
  idTag: string | null;
  status: 'active' | 'ended';
  startedAt: Timestamp;
  endedAt: Timestamp | null;
  /** Wh as decimal strings. */
  meterStartWh: string | null;
  meterLastWh: string | null;
  meterStopWh: string | null;
  /** Generated: stop (or last) reading minus start reading. */
  energyWh: ColumnType<string, never, never>;
  stopReason: string | null;
  lastSeqNo: number | null;
  protocol: string;
  updatedAt: Generated<Date>;
  /** When the session's CDR was issued (migrations/0017): the pricer looks only at ended sessions without one. */
  pricedAt: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** A charge detail record (migrations/0014_cdrs.ts): issued once, never changed; decimals as strings. */
export interface CdrsTable {
  id: string;
  sessionId: string;
  revision: number;
  credit: ColumnType<boolean, boolean | undefined, never>;
  creditReferenceId: string | null;
  chargerId: string;
  connectorId: number;
  agreementId: string;
  agreementVersion: number;
  siteId: string;
  tariffId: string | null;
  currency: string;
  voucherCode: string | null;
  startDateTime: Timestamp;
  endDateTime: Timestamp;
  totalEnergy: string;
  totalTime: string;
  totalParkingTime: string;
  totalCostExclVat: string;
  totalCostInclVat: string;
  listPriceExclVat: string;
  listPriceInclVat: string;
  fixedCostExclVat: string;
  fixedCostInclVat: string;
  energyCostExclVat: string;
  energyCostInclVat: string;
  timeCostExclVat: string;
  timeCostInclVat: string;
  parkingCostExclVat: string;
  parkingCostInclVat: string;
  /** The OCPI 2.2.1 CDR as issued: JSON text, byte for byte (migrations/0021_cdr_document_as_issued.ts). */
  document: string;
  issuedAt: Timestamp;
}

export interface StatementNumbersTable {
  issuer: string;
  year: number;
  last: number;
}

/** A statement or a note revising one (migrations/0015_statements.ts): issued once, never changed. */
export interface StatementsTable {
  id: string;
  kind: 'statement' | 'credit-note' | 'debit-note';
  agreementId: string;
  agreementVersion: number;
  month: string;
  revision: number;
  referencesId: string | null;
  issuer: string;
  recipient: string;
  year: number;
  seq: number;
  currency: string;
  periodStart: Timestamp;
  periodEnd: Timestamp;
  /** A date (yyyy-mm-dd), from the statement's data. */
  issuedOn: ColumnType<string, string, never>;
  inputsHash: string;
  due: string;
  content: Json;
  createdAt: CreatedAt;
}

export interface StatementEventsTable {
  id: Generated<string>;
  statementId: string;
  kind: string;
  actor: string | null;
  at: Timestamp;
  detail: Json | null;
}

/** What an agreement's workflow did (a notice reminder sent, a month's settlement started), once per key. */
export interface AgreementEventsTable {
  agreementId: string;
  key: string;
  kind: string;
  at: Generated<Timestamp>;
  detail: Json | null;
}

/** A person signed in to the console, acting with an API token's role and scope (migrations/0018). */
export interface ConsoleSessionsTable {
  /** sha256 of the cookie's secret. */
  idHash: string;
  tokenId: string;
  csrf: string;
  createdAt: Generated<Timestamp>;
  expiresAt: Timestamp;
}

/** A one-time sign-in link sent to a token's holder (migrations/0019). */
export interface ConsoleSignInLinksTable {
  /** sha256 of the link's secret. */
  idHash: string;
  tokenId: string;
  sentBy: string;
  createdAt: Generated<Timestamp>;
  expiresAt: Timestamp;
  usedAt: Timestamp | null;
}

/** One meter value: the samples a charger took at one moment on one connector (ocpp/meter.ts's MeterSample, as jsonb). */
export interface MeterValuesTable {
  chargerId: string;
  connectorId: number;
  sampledAt: Timestamp;
  transactionId: string | null;
  samples: Json;
}

/** A view over meter_values: one row per sample, its value scaled to the unit (read only). */
export interface MeterSamplesView {
  chargerId: ColumnType<string, never, never>;
  connectorId: ColumnType<number, never, never>;
  transactionId: ColumnType<string | null, never, never>;
  sampledAt: ColumnType<Date, never, never>;
  measurand: ColumnType<string, never, never>;
  phase: ColumnType<string, never, never>;
  location: ColumnType<string, never, never>;
  unit: ColumnType<string | null, never, never>;
  context: ColumnType<string | null, never, never>;
  value: ColumnType<string, never, never>;
}

/** Normalised events that are not a status or a session: connectivity, firmware, logs, security, data transfer, device events. */
export interface ChargerEventsTable {
  id: Generated<string>;
  chargerId: string;
  connectorId: number | null;
  kind: string;
  at: Timestamp;
  data: Json;
  receivedAt: CreatedAt;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expiresAt: Timestamp;
}

/** A workflow Concierge started (incident, connectivity watch) that may still be running; `generation` counts its starts. */
export interface StartedWorkflowsTable {
  workflowId: string;
  generation: ColumnType<string, string | undefined, string>;
  startedAt: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A photo uploaded to an incident; the bytes are in the attachments folder under its id. */
export interface AttachmentsTable {
  id: string;
  incidentId: string;
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  uploadedBy: string;
  uploadedAt: CreatedAt;
}

export interface Database {
  apiTokens: ApiTokensTable;
  chargers: ChargersTable;
  connectorStatus: ConnectorStatusTable;
  statusLog: StatusLogTable;
  outbox: OutboxTable;
  incidents: IncidentsTable;
  incidentFaults: IncidentFaultsTable;
  incidentSteps: IncidentStepsTable;
  agreementVersions: AgreementVersionsTable;
  agreementChargers: AgreementChargersTable;
  rejectedFrames: RejectedFramesTable;
  sessions: SessionsTable;
  cdrs: CdrsTable;
  statementNumbers: StatementNumbersTable;
  statements: StatementsTable;
  statementEvents: StatementEventsTable;
  agreementEvents: AgreementEventsTable;
  consoleSessions: ConsoleSessionsTable;
  consoleSignInLinks: ConsoleSignInLinksTable;
  meterValues: MeterValuesTable;
  meterSamples: MeterSamplesView;
  chargerEvents: ChargerEventsTable;
  leases: LeasesTable;
  tasks: TasksTable;
  notifications: NotificationsTable;
  attachments: AttachmentsTable;
  startedWorkflows: StartedWorkflowsTable;
}
