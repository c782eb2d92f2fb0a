import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import { Gauge, Registry } from 'prom-client';
import { CLOSED_STATUSES } from '../contracts/incident.js';
import type { ApiDeps } from './env.js';

const route = createRoute({
  method: 'get',
  path: '/',
  security: [], // for load balancers and monitoring: no token
  summary: 'Operational metrics in the Prometheus text format (counts only, no tenant data)',
  responses: { 200: { description: 'the metrics', content: { 'text/plain': { schema: z.string() } } } },
});

/**
 * Metrics for a monitoring system to scrape and alert on, read from the database at scrape time so
 * every process answers the same. `concierge_incidents_degraded` above 0 means an incident's data
 * was refused by the database and its projection holds replaced characters, and
 * `concierge_outbox_dead_lettered` above 0 that a charger's event was set aside: someone should look.
 */
export function metricsRoutes({ db }: ApiDeps) {
  const registry = new Registry();
  /** A gauge that is a row count, counted when scraped. */
  const rowCount = (name: string, help: string, rows: () => Promise<{ count: string }>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(Number((await rows()).count));
      },
    });
  const counted = sql<string>`count(*)`.as('count');

  rowCount('concierge_incidents_degraded', 'Incidents whose projection the database refused as it was and which are saved with unstorable characters replaced', () =>
    db.selectFrom('incidents').select(counted).where('degradedSince', 'is not', null).executeTakeFirstOrThrow(),
  );
  new Gauge({
    name: 'concierge_incidents_open',
    help: 'Incidents not yet resolved or cancelled, by priority',
    labelNames: ['priority'],
    registers: [registry],
    async collect() {
      const rows = await db.selectFrom('incidents').select(['priority', counted]).where('status', 'not in', CLOSED_STATUSES).groupBy('priority').execute();
      this.reset();
      for (const row of rows) this.set({ priority: row.priority }, Number(row.count));
    },
  });
  rowCount('concierge_outbox_dead_lettered', 'Charger events Temporal or the database refused for good, set aside instead of delivered (see docs/architecture.md: requeue once the cause is fixed)', () =>
    db.selectFrom('outbox').select(counted).where('deadLetteredAt', 'is not', null).executeTakeFirstOrThrow(),
  );
  rowCount('concierge_outbox_pending', 'Charger events waiting to be delivered to Temporal (a backlog that keeps growing means the relay or Temporal is behind)', () =>
    db.selectFrom('outbox').select(counted).where('deliveredAt', 'is', null).where('deadLetteredAt', 'is', null).executeTakeFirstOrThrow(),
  );
  return new OpenAPIHono().openapi(route, async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
}
