import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { CHARGER_ID } from '../contracts/agreement.js';
import { commandProblem, gatewayTaskQueue } from '../ocpp/commands.js';
import { chargerCommand } from '../workflows/charger-command/workflow.js';
import { MAY } from '../contracts/roles.js';
import { requireRole } from './auth.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { notFound, Problem, problemResponses } from './problem.js';
import { chargerInScope } from './scope.js';
import { WITHOUT_NUL } from '../contracts/storable-text.js';

/** Any JSON whose texts the database can store (commands are recorded): stated as a recursive schema, checked like every body. */
const NO_NUL = { pattern: WITHOUT_NUL.source };
const JSON_VALUE = {
  anyOf: [
    { type: 'string', ...NO_NUL },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    { type: 'array', items: { $ref: '#/components/schemas/OcppValue' } },
    { type: 'object', propertyNames: NO_NUL, additionalProperties: { $ref: '#/components/schemas/OcppValue' } },
  ],
} as const;
const OcppRequest = z
  .record(z.string(), z.unknown())
  .openapi('OcppRequest', { propertyNames: NO_NUL, additionalProperties: { $ref: '#/components/schemas/OcppValue' } } as object);

const send = createRoute({
  method: 'post',
  path: '/{id}/commands/{command}',
  summary: "Send an OCPP command to a charger and return the charger's answer",
  description:
    "The body is the command's OCPP request payload in the charger's protocol version (e.g. 1.6 Reset `{\"type\":\"Soft\"}`, 2.0.1 Reset `{\"type\":\"Immediate\"}`), checked against the official schema before it is sent. The command runs on the gateway process that holds the charger's socket.",
  middleware: [requireRole(...MAY.workChargers)] as const,
  request: {
    params: z.object({ id: z.string().regex(CHARGER_ID.pattern, CHARGER_ID.rule), command: z.string().regex(/^[A-Za-z]{1,40}$/, 'an OCPP action name such as Reset') }),
    body: { required: true, content: { 'application/json': { schema: OcppRequest } } },
  },
  responses: {
    200: {
      description: "the charger's answer",
      content: { 'application/json': { schema: z.object({ chargerId: z.string(), command: z.string(), protocol: z.string(), response: z.unknown() }).openapi('CommandResult') } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 502, 503, 504),
  },
});

export function chargerCommandRoutes({ db, temporal, taskQueue, commandTimeoutMs }: ApiDeps) {
  const routes = new OpenAPIHono<ApiEnv>();
  routes.openAPIRegistry.registerComponent('schemas', 'OcppValue', JSON_VALUE as object);
  return routes.openapi(send, async (c) => {
    const { id, command } = c.req.valid('param');
    const params = c.req.valid('json');
    const charger = await db.selectFrom('chargers').select(['protocol', 'connected', 'gatewayNode']).where('id', '=', id).executeTakeFirst();
    if (!charger || !(await chargerInScope(db, id, c.get('actor'), c.get('scope')))) throw notFound('charger');
    if (!charger.connected || !charger.gatewayNode || !charger.protocol) throw chargerOffline(`charger ${id} is not connected`);
    const problem = commandProblem(charger.protocol, command, params);
    if (problem) throw new Problem(400, 'Bad Request', problem);

    try {
      const response = await temporal.workflow.execute(chargerCommand, {
        workflowId: `command:${id}:${randomUUID()}`,
        taskQueue,
        args: [{ chargerId: id, command, params, gatewayQueue: gatewayTaskQueue(taskQueue, charger.gatewayNode), timeoutMs: commandTimeoutMs }],
      });
      return c.json({ chargerId: id, command, protocol: charger.protocol, response }, 200);
    } catch (error) {
      throw commandFailure(id, error);
    }
  });
}

const chargerOffline = (detail: string) => new Problem(409, 'Charger Offline', detail, { reason: 'ChargerOffline' });

/** A failed command as the API says it: offline → 409, the charger refused → 502, no answer → 504. */
function commandFailure(chargerId: string, error: unknown): Problem | unknown {
  if (!(error instanceof WorkflowFailedError) || !(error.cause instanceof ActivityFailure)) return error;
  const cause = error.cause.cause;
  if (cause instanceof ApplicationFailure) {
    if (cause.type === 'ChargerOffline') return chargerOffline(cause.message);
    if (cause.type === 'CommandRejected') return new Problem(502, 'Charger Refused', cause.message, { reason: 'CommandRejected' });
    if (cause.type === 'ChargerTimeout') return new Problem(504, 'Charger Timeout', cause.message, { reason: 'ChargerTimeout' });
  }
  if (cause instanceof TimeoutFailure) return new Problem(504, 'Gateway Timeout', `no gateway process took the command for charger ${chargerId}: the gateway holding its socket may be down`, { reason: 'GatewayUnavailable' });
  return error;
}
