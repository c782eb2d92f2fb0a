import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { attachmentRoutes } from './attachments.js';
import { requireToken } from './auth.js';
import { boundedBodies } from './boundary.js';
import { chargerCommandRoutes } from './charger-commands.js';
import { chargerRoutes } from './chargers.js';
import { docsRoutes } from './docs.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { methodsServing, withAppWideAnswers } from './openapi.js';
import { incidentRoutes } from './incidents.js';
import { taskRoutes } from './tasks.js';
import { statementRoutes } from './statements.js';
import { tokenRoutes } from './tokens.js';
import { invalidRequest, Problem, refuseUnstorable, renderProblem, TEMPORAL_UNAVAILABLE, toProblem } from './problem.js';

/** Scripts and styles from this server only (Swagger UI sets inline styles); no plug-ins, no framing. */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * The HTTP API: health and docs in the open, everything under /api behind a bearer token. A
 * process without the api role serves /health only (and the OCPP upgrade on the same port).
 */
export function createApi(deps: ApiDeps, { withApi = true }: { withApi?: boolean } = {}) {
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw invalidRequest(result.error.issues, result.target);
      refuseUnstorable(result.data, result.target);
    },
  });

  app.onError((error, c) => {
    const problem = toProblem(error, c.req.path);
    // Temporal being down is one known condition (health says so too), not a bug to trace per request.
    if (problem.extra.reason === TEMPORAL_UNAVAILABLE) deps.log.warn({ path: c.req.path, reason: (error as Error).message }, 'request refused: Temporal cannot be reached');
    else if (problem.status >= 500 && !(error instanceof Problem)) deps.log.error({ err: error, path: c.req.path }, 'request failed');
    return renderProblem(c, problem);
  });
  app.notFound((c) => {
    // A path we serve, with a method we do not: 405 and the methods we do.
    const allowed = methodsServing(app.routes, c.req.path);
    if (allowed.length === 0) return renderProblem(c, new Problem(404, 'Not Found', `no route for ${c.req.method} ${c.req.path}`));
    c.header('allow', allowed.join(', '));
    return renderProblem(c, new Problem(405, 'Method Not Allowed', `${c.req.method} is not served on ${c.req.path}; allowed: ${allowed.join(', ')}`));
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  // Every answer: nosniff, no framing, no referrer; the docs page runs only our own scripts. The
  // console's pages set their own, stricter, policy first (these do not overwrite it).
  app.use('*', secureHeaders({ contentSecurityPolicy: CONTENT_SECURITY_POLICY, strictTransportSecurity: false, overwrite: false }));

  app.route('/health', healthRoutes(deps));
  app.route('/metrics', metricsRoutes(deps));
  if (!withApi) return app;
  app.use('/api/*', boundedBodies(deps.bodyLimitBytes), requireToken(deps.db));
  app.route('/api/chargers', chargerRoutes(deps));
  app.route('/api/chargers', chargerCommandRoutes(deps));
  app.route('/api/incidents', incidentRoutes(deps));
  app.route('/api/incidents', attachmentRoutes(deps));
  app.route('/api/tasks', taskRoutes(deps));
  app.route('/api/tokens', tokenRoutes(deps));
  app.route('/api', statementRoutes(deps));

  let document: ReturnType<typeof app.getOpenAPI31Document> | null = null;
  app.get('/openapi.json', (c) => {
    document ??= withAppWideAnswers(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: { title: 'Concierge API', version: '0.1.0', description: 'Service agreements, incidents and SLAs for destination EV charging. Free text may not contain U+0000 or unpaired surrogates (the database cannot store them): such input is refused with 400.' },
        security: [{ bearer: [] }],
      }),
    );
    return c.json(document);
  });
  app.route('/docs', docsRoutes('/openapi.json'));
  return app;
}
