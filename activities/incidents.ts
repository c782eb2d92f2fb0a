import type { Db } from '../db/connect.js';
import type { IncidentChange } from '../contracts/incident.js';

/**
 * Writes the incident projection the API reads. Safe to run twice: older revisions never overwrite
 * newer ones, and a revision written again (an attempt retried after a timeout) replaces what it
 * wrote before, so the last attempt's version is the one shown.
 */
export function createIncidentActivities(db: Db) {
  return {
    async saveIncident({ incident, sla, newFaults, newSteps }: IncidentChange): Promise<void> {
      const now = new Date();
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
        siteId: incident.site?.id ?? null,
        source: incident.source,
        assigneeId: incident.assignee?.id ?? null,
        openedAt: incident.openedAt,
        acknowledgedAt: incident.acknowledgedAt,
        resolvedAt: incident.resolvedAt ?? incident.cancelledAt,
        ...sla,
        cycle: incident.clocks.fix.cycles.length,
        state: JSON.stringify(incident),
        revision: incident.revision,
        degradedSince: incident.degraded?.since ?? null,
        degradedCause: incident.degraded?.cause ?? null,
        updatedAt: now,
      };
      await db.transaction().execute(async (trx) => {
        const saved = await trx
          .insertInto('incidents')
          .values(row)
          .onConflict((oc) =>
            oc
              .column('id')
              .doUpdateSet((eb) => ({
                runId: eb.ref('excluded.runId'),
                openedAt: eb.ref('excluded.openedAt'),
                status: eb.ref('excluded.status'),
                priority: eb.ref('excluded.priority'),
                assigneeId: eb.ref('excluded.assigneeId'),
                acknowledgedAt: eb.ref('excluded.acknowledgedAt'),
                resolvedAt: eb.ref('excluded.resolvedAt'),
                respondBy: eb.ref('excluded.respondBy'),
                fixBy: eb.ref('excluded.fixBy'),
                responseBreached: eb.ref('excluded.responseBreached'),
                fixBreached: eb.ref('excluded.fixBreached'),
                responseEverBreached: eb.ref('excluded.responseEverBreached'),
                fixEverBreached: eb.ref('excluded.fixEverBreached'),
                cycle: eb.ref('excluded.cycle'),
                state: eb.ref('excluded.state'),
                revision: eb.ref('excluded.revision'),
                degradedSince: eb.ref('excluded.degradedSince'),
                degradedCause: eb.ref('excluded.degradedCause'),
                updatedAt: eb.ref('excluded.updatedAt'),
              }))
              .where('incidents.revision', '<=', (eb) => eb.ref('excluded.revision')),
          )
          .returning('id')
          .executeTakeFirst();
        if (newFaults.length > 0) {
          await trx
            .insertInto('incidentFaults')
            .values(newFaults.map((f) => ({ incidentId: incident.id, ...f, receivedAt: f.receivedAt ?? null })))
            .onConflict((oc) => oc.columns(['incidentId', 'eventId']).doNothing())
            .execute();
        }
        if (newSteps.length > 0) {
          await trx
            .insertInto('incidentSteps')
            .values(newSteps.map((s) => ({ incidentId: incident.id, ...s, data: s.data === null ? null : JSON.stringify(s.data) })))
            .onConflict((oc) =>
              oc.columns(['incidentId', 'seq']).doUpdateSet((eb) => ({
                step: eb.ref('excluded.step'),
                actor: eb.ref('excluded.actor'),
                actorRole: eb.ref('excluded.actorRole'),
                note: eb.ref('excluded.note'),
                data: eb.ref('excluded.data'),
                at: eb.ref('excluded.at'),
              })),
            )
            .execute();
        }
        // Tasks follow the incident row: an older revision (a retried save) leaves them alone.
        if (!saved) return;
        for (const task of incident.tasks) {
          const values = {
            id: task.id,
            incidentId: incident.id,
            kind: task.kind,
            status: task.status,
            agreementId: incident.agreement?.id ?? null,
            siteId: incident.site?.id ?? null,
            chargerId: incident.chargerId,
            connectorId: incident.connectorId,
            assigneeId: task.assignee?.id ?? null,
            assigneeName: task.assignee?.name ?? null,
            dueAt: task.dueAt,
            detail: JSON.stringify({ checklist: task.checklist, site: incident.site, priority: incident.priority }),
            createdAt: task.createdAt,
            updatedAt: task.updatedAt,
            completedAt: task.completedAt,
          };
          await trx
            .insertInto('tasks')
            .values(values)
            .onConflict((oc) =>
              oc.column('id').doUpdateSet((eb) => ({
                status: eb.ref('excluded.status'),
                createdAt: eb.ref('excluded.createdAt'),
                assigneeId: eb.ref('excluded.assigneeId'),
                assigneeName: eb.ref('excluded.assigneeName'),
                dueAt: eb.ref('excluded.dueAt'),
                detail: eb.ref('excluded.detail'),
                updatedAt: eb.ref('excluded.updatedAt'),
                completedAt: eb.ref('excluded.completedAt'),
              })),
            )
            .execute();
        }
      });
    },
  };
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
