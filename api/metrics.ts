import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
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
  new Gauge({
    name: 'concierge_incidents_degraded',
    help: 'Incidents whose projection the database refused as it was and which are saved with unstorable characters replaced',
    registers: [registry],
    async collect() {
      const row = await db.selectFrom('incidents').select((eb) => eb.fn.countAll<string>().as('count')).where('degradedSince', 'is not', null).executeTakeFirstOrThrow();
      this.set(Number(row.count));
    },
  });
  new Gauge({
    name: 'concierge_incidents_open',
    help: 'Incidents not yet resolved or cancelled, by priority',
    labelNames: ['priority'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('incidents')
        .select(['priority', (eb) => eb.fn.countAll<string>().as('count')])
        .where('status', 'not in', CLOSED_STATUSES)
        .groupBy('priority')
        .execute();
      this.reset();
      for (const row of rows) this.set({ priority: row.priority }, Number(row.count));
    },
  });
  new Gauge({
    name: 'concierge_outbox_dead_lettered',
    help: 'Charger events Temporal or the database refused for good, set aside instead of delivered (see docs/architecture.md: requeue once the cause is fixed)',
    registers: [registry],
    async collect() {
      const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('count')).where('deadLetteredAt', 'is not', null).executeTakeFirstOrThrow();
      this.set(Number(row.count));
    },
  });
  new Gauge({
    name: 'concierge_outbox_pending',
    help: 'Charger events waiting to be delivered to Temporal (a backlog that keeps growing means the relay or Temporal is behind)',
    registers: [registry],
    async collect() {
      const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('count')).where('deliveredAt', 'is', null).where('deadLetteredAt', 'is', null).executeTakeFirstOrThrow();
      this.set(Number(row.count));
    },
  });
  return new OpenAPIHono().openapi(route, async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
}
