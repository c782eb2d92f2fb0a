import { z } from '@hono/zod-openapi';
import type { Selectable } from 'kysely';
import type { TasksTable } from '../db/schema.js';

/** A field-crew task as the API shows it: in the task inbox and on its incident. */
export const TaskSchema = z
  .object({
    id: z.string(),
    incidentId: z.string(),
    kind: z.string(),
    status: z.enum(['open', 'claimed', 'done', 'cancelled']),
    chargerId: z.string(),
    connectorId: z.number().int(),
    priority: z.string().nullable(),
    site: z.object({ id: z.string(), name: z.string(), address: z.string(), timeZone: z.string().optional() }).nullable(),
    dueAt: z.string().nullable().openapi({ description: 'when the fix clock breaches, as of the last change' }),
    assignee: z.object({ id: z.string(), name: z.string() }).nullable(),
    checklist: z.array(z.string()),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi('Task');

export function toView(task: Selectable<TasksTable>) {
  const detail = task.detail as { checklist?: string[]; site?: { id: string; name: string; address: string } | null; priority?: string };
  return {
    id: task.id,
    incidentId: task.incidentId,
    kind: task.kind,
    status: task.status,
    chargerId: task.chargerId,
    connectorId: task.connectorId,
    priority: detail.priority ?? null,
    site: detail.site ?? null,
    dueAt: task.dueAt?.toISOString() ?? null,
    assignee: task.assigneeId ? { id: task.assigneeId, name: task.assigneeName ?? task.assigneeId } : null,
    checklist: detail.checklist ?? [],
    createdAt: task.createdAt.toISOString(),
    completedAt: task.completedAt?.toISOString() ?? null,
  };
}
