import type { Migration, MigrationProvider } from 'kysely/migration';
import * as skeleton from './0001_skeleton.js';
import * as agreements from './0002_agreements.js';
import * as rejectedFrames from './0003_rejected_frames.js';
import * as sessionsAndConnectivity from './0004_sessions_and_connectivity.js';
import * as incidentEngine from './0005_incident_engine.js';
import * as attachments from './0006_attachments.js';
import * as gatewayWritePath from './0007_gateway_write_path.js';
import * as startedWorkflows from './0008_started_workflows.js';
import * as outboxRetention from './0009_outbox_retention.js';
import * as meterValues from './0010_meter_values.js';
import * as degradedAndBootstrapToken from './0011_degraded_and_bootstrap_token.js';
import * as outboxDeadLetter from './0012_outbox_dead_letter.js';
import * as gatewayCausedDisconnects from './0013_gateway_caused_disconnects.js';
import * as cdrs from './0014_cdrs.js';
import * as statements from './0015_statements.js';
import * as agreementEvents from './0016_agreement_events.js';
import * as sessionsToPrice from './0017_sessions_to_price.js';
import * as consoleSessions from './0018_console_sessions.js';
import * as signInLinks from './0019_sign_in_links.js';
import * as incidentListIndexes from './0020_incident_list_indexes.js';
import * as cdrDocumentAsIssued from './0021_cdr_document_as_issued.js';

/** Every migration, in order. Files are never edited once they have landed; add a new one. */
const migrations: Record<string, Migration> = {
  '0001_skeleton': skeleton,
  '0002_agreements': agreements,
  '0003_rejected_frames': rejectedFrames,
  '0004_sessions_and_connectivity': sessionsAndConnectivity,
  '0005_incident_engine': incidentEngine,
  '0006_attachments': attachments,
  '0007_gateway_write_path': gatewayWritePath,
  '0008_started_workflows': startedWorkflows,
  '0009_outbox_retention': outboxRetention,
  '0010_meter_values': meterValues,
  '0011_degraded_and_bootstrap_token': degradedAndBootstrapToken,
  '0012_outbox_dead_letter': outboxDeadLetter,
  '0013_gateway_caused_disconnects': gatewayCausedDisconnects,
  '0014_cdrs': cdrs,
  '0015_statements': statements,
  '0016_agreement_events': agreementEvents,
  '0017_sessions_to_price': sessionsToPrice,
  '0018_console_sessions': consoleSessions,
  '0019_sign_in_links': signInLinks,
  '0020_incident_list_indexes': incidentListIndexes,
  '0021_cdr_document_as_issued': cdrDocumentAsIssued,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
