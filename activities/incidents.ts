import type { Db } from '../db/connect.js';
import type { IncidentChange } from '../contracts/incident.js';

/** Writes the incident projection the API reads. Safe to run twice: older revisions never overwrite newer ones. */
export function createIncidentActivities(db: Db) {
  return {
    async saveIncident({ incident, newFaults, newSteps }: IncidentChange): Promise<void> {
      const row = {
        id: incident.id,
        workflowId: incident.workflowId,
        runId: incident.runId,
        chargerId: incident.chargerId,
        connectorId: incident.connectorId,
        status: incident.status,
        priority: incident.priority,
        agreementId: incident.agreement?.id ?? null,
        agreementVersion: incident.agreement?.version ?? null,
        openedAt: incident.openedAt,
        acknowledgedAt: incident.acknowledgedAt,
        resolvedAt: incident.resolvedAt,
        respondBy: incident.respondBy,
        fixBy: incident.fixBy,
        responseBreached: incident.responseBreached,
        fixBreached: incident.fixBreached,
        revision: incident.revision,
        updatedAt: new Date(),
      };
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('incidents')
          .values(row)
          .onConflict((oc) =>
            oc
              .column('id')
              .doUpdateSet((eb) => ({
                status: eb.ref('excluded.status'),
                priority: eb.ref('excluded.priority'),
                acknowledgedAt: eb.ref('excluded.acknowledgedAt'),
                resolvedAt: eb.ref('excluded.resolvedAt'),
                respondBy: eb.ref('excluded.respondBy'),
                fixBy: eb.ref('excluded.fixBy'),
                responseBreached: eb.ref('excluded.responseBreached'),
                fixBreached: eb.ref('excluded.fixBreached'),
                revision: eb.ref('excluded.revision'),
                updatedAt: eb.ref('excluded.updatedAt'),
              }))
              .where('incidents.revision', '<', eb => eb.ref('excluded.revision')),
          )
          .execute();
        if (newFaults.length > 0) {
          await trx
            .insertInto('incidentFaults')
            .values(newFaults.map((f) => ({ incidentId: incident.id, ...f })))
            .onConflict((oc) => oc.columns(['incidentId', 'eventId']).doNothing())
            .execute();
        }
        if (newSteps.length > 0) {
          await trx
            .insertInto('incidentSteps')
            .values(newSteps.map((s) => ({ incidentId: incident.id, ...s })))
            .onConflict((oc) => oc.columns(['incidentId', 'seq']).doNothing())
            .execute();
        }
      });
    },
  };
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
