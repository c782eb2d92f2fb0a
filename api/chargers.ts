import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { CHARGER_ID } from '../contracts/agreement.js';
import { hashPassword } from '../platform/secrets.js';
import { MAY } from '../contracts/roles.js';
import { requireRole } from './auth.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { conflict, notFound, problemResponses } from './problem.js';
import { chargerInScope } from './scope.js';
import { text } from '../contracts/storable-text.js';

const ChargerId = z
  .string()
  .regex(CHARGER_ID.pattern, CHARGER_ID.rule)
  .openapi({ example: 'HOTEL-ALPS-01' });

const NewCharger = z
  .object({
    id: ChargerId,
    // OCPP 1.6 security profile: the Basic-auth key is 16 to 40 characters.
    password: text().min(16).max(40),
    siteId: text().min(1).max(100).optional(),
    vendor: text().max(100).optional(),
    model: text().max(100).optional(),
    /** false: the charger is installed but not yet commissioned; its boots are answered Pending until it is. */
    commissioned: z.boolean().default(true),
  })
  .openapi('NewCharger');

const ConnectorSchema = z.object({
  connectorId: z.number().int(),
  status: z.string(),
  errorCode: z.string().nullable(),
  vendorErrorCode: z.string().nullable(),
  info: z.string().nullable(),
  at: z.string(),
});

const ChargerSchema = z
  .object({
    id: z.string(),
    siteId: z.string().nullable(),
    vendor: z.string().nullable(),
    model: z.string().nullable(),
    serialNumber: z.string().nullable(),
    firmwareVersion: z.string().nullable(),
    protocol: z.string().nullable(),
    state: z.enum(['pending', 'active']),
    connected: z.boolean(),
    connectedAt: z.string().nullable(),
    lastSeenAt: z.string().nullable(),
    registeredAt: z.string(),
    connectors: z.array(ConnectorSchema),
  })
  .openapi('Charger');

const register = createRoute({
  method: 'post',
  path: '/',
  summary: 'Register a charger and its OCPP Basic-auth password',
  middleware: [requireRole(...MAY.registerChargers)] as const,
  request: { body: { required: true, content: { 'application/json': { schema: NewCharger } } } },
  responses: {
    201: { description: 'registered', content: { 'application/json': { schema: ChargerSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413),
  },
});

const show = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'A charger: connected or not, last seen, status per connector',
  request: { params: z.object({ id: ChargerId }) },
  responses: {
    200: { description: 'the charger', content: { 'application/json': { schema: ChargerSchema } } },
    ...problemResponses(401, 404),
  },
});

const commission = createRoute({
  method: 'post',
  path: '/{id}/commission',
  summary: 'Commission a charger: from now on its boots are Accepted',
  middleware: [requireRole(...MAY.workChargers)] as const,
  request: { params: z.object({ id: ChargerId }) },
  responses: {
    200: { description: 'the commissioned charger', content: { 'application/json': { schema: ChargerSchema } } },
    ...problemResponses(401, 403, 404),
  },
});

export function chargerRoutes({ db }: ApiDeps) {
  async function loadCharger(id: string) {
    const charger = await db.selectFrom('chargers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!charger) return null;
    const connectors = await db.selectFrom('connectorStatus').selectAll().where('chargerId', '=', id).orderBy('connectorId').execute();
    return {
      id: charger.id,
      siteId: charger.siteId,
      vendor: charger.vendor,
      model: charger.model,
      serialNumber: charger.serialNumber,
      firmwareVersion: charger.firmwareVersion,
      protocol: charger.protocol,
      state: charger.state,
      connected: charger.connected,
      connectedAt: charger.connectedAt?.toISOString() ?? null,
      lastSeenAt: charger.lastSeenAt?.toISOString() ?? null,
      registeredAt: charger.registeredAt.toISOString(),
      connectors: connectors.map((c) => ({
        connectorId: c.connectorId,
        status: c.status,
        errorCode: c.errorCode,
        vendorErrorCode: c.vendorErrorCode,
        info: c.info,
        at: c.at.toISOString(),
      })),
    };
  }

  return new OpenAPIHono<ApiEnv>()
    .openapi(register, async (c) => {
      const body = c.req.valid('json');
      // A scoped token registers only chargers its agreements (sites) list. Any other id — listed by
      // another tenant's agreement or by none — gets the same answer, so nothing tells them apart.
      if (!(await chargerInScope(db, body.id, c.get('actor'), c.get('scope')))) throw notFound(`charger ${body.id} among the chargers your token's agreements and sites list`);
      const inserted = await db
        .insertInto('chargers')
        .values({
          id: body.id,
          passwordHash: await hashPassword(body.password),
          siteId: body.siteId ?? null,
          vendor: body.vendor ?? null,
          model: body.model ?? null,
          serialNumber: null,
          firmwareVersion: null,
          protocol: null,
          gatewayNode: null,
          connectedAt: null,
          lastSeenAt: null,
          bootedAt: null,
          state: body.commissioned ? 'active' : 'pending',
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) throw conflict(`charger ${body.id} is already registered`);
      return c.json((await loadCharger(body.id))!, 201);
    })
    .openapi(commission, async (c) => {
      const { id } = c.req.valid('param');
      if (!(await chargerInScope(db, id, c.get('actor'), c.get('scope')))) throw notFound('charger');
      const updated = await db.updateTable('chargers').set({ state: 'active' }).where('id', '=', id).returning('id').executeTakeFirst();
      if (!updated) throw notFound('charger');
      return c.json((await loadCharger(id))!, 200);
    })
    .openapi(show, async (c) => {
      const { id } = c.req.valid('param');
      const charger = (await chargerInScope(db, id, c.get('actor'), c.get('scope'))) ? await loadCharger(id) : null;
      if (!charger) throw notFound('charger');
      return c.json(charger, 200);
    });
}
