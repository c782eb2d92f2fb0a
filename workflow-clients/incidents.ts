import type { Client } from '@temporalio/client';
import { incidentWorkflowId, type FaultReport, type IncidentInput } from '../contracts/incident.js';
import type { Db } from '../db/connect.js';
import { faultReported } from '../workflows/incident/messages.js';
import { incidentWorkflow } from '../workflows/incident/workflow.js';
import { noteStarted } from './started-workflows.js';

/**
 * Opens the connector's incident with this fault, or adds the fault to the one already running:
 * signal-with-start on `incident:<charger>:<connector>`, after noting the workflow as started (so
 * that the charger's later reports reach it). The fault carries the terms it would open an incident
 * under, so that a more urgent one raises a running incident's. The one way in for the outbox relay
 * and the API.
 */
export async function openOrJoinIncident(db: Db, temporal: Client, taskQueue: string, input: IncidentInput, fault: FaultReport) {
  const workflowId = incidentWorkflowId(input.chargerId, input.connectorId);
  await noteStarted(db, workflowId);
  const terms = { priority: input.priority, sla: input.sla, faultClass: input.agreement?.faultClass ?? null };
  return temporal.workflow.signalWithStart(incidentWorkflow, { workflowId, taskQueue, args: [input], signal: faultReported, signalArgs: [fault, terms] });
}
