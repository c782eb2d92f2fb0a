import { sql } from 'kysely';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { ApiDeps } from './env.js';
import { Problem, problemResponses } from './problem.js';

const HealthSchema = z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.literal('up')) }).openapi('Health');

const route = createRoute({
  method: 'get',
  path: '/',
  security: [], // for load balancers and monitoring: no token
  summary: 'Whether the database and Temporal are reachable',
  responses: { 200: { description: 'all dependencies up', content: { 'application/json': { schema: HealthSchema } } }, ...problemResponses(503) },
});

const CHECK_TIMEOUT_MS = 3_000;

export function healthRoutes({ db, temporalProbe, log }: ApiDeps) {
  const checks: Record<string, () => Promise<unknown>> = {
    database: () => sql`select 1`.execute(db),
    temporal: () => temporalProbe.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => temporalProbe.workflowService.getSystemInfo({})),
  };
  return new OpenAPIHono().openapi(route, async (c) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, 'up'] as const;
        } catch (error) {
          // The reason goes to the log, not to an unauthenticated caller (it can name hosts and users).
          log.warn({ err: error, dependency: name }, 'health check failed');
          return [name, 'down'] as const;
        }
      }),
    );
    const down = results.filter(([, state]) => state !== 'up');
    if (down.length > 0) {
      throw new Problem(503, 'Service Unavailable', down.map(([name, state]) => `${name} is ${state}`).join('; '), {
        checks: Object.fromEntries(results),
      });
    }
    return c.json({ status: 'ok' as const, checks: Object.fromEntries(results.map(([name]) => [name, 'up' as const])) }, 200);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}
