import type { Db } from '../db/connect.js';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { CHARGER_ID } from '../contracts/agreement.js';
import { hashPassword } from '../platform/secrets.js';
import { MAY } from '../contracts/roles.js';
import { requireRole } from './auth.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { conflict, invalidRequest, notFound, problemResponses } from './problem.js';
import { agreementForCharger, agreementsInForce } from '../agreements/store.js';
import { portUptimeFromHistory } from '../agreements/uptime-report.js';
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
    coveredBy: z
      .object({ agreement: z.string(), site: z.string(), siteName: z.string().nullable() })
      .nullable()
      .meta({ description: 'the agreement in force that lists the charger, and at which of its sites; null: covered by none (the configured defaults apply)' }),
    connectors: z.array(ConnectorSchema),
  })
  .openapi('Charger');

const ChargerFilters = z.object({
  site: text().min(1).max(100).optional().meta({ description: 'only chargers at this site' }),
  agreement: text().min(1).max(100).optional().meta({ description: 'only chargers this agreement covers' }),
  connected: z.enum(['true', 'false']).optional().meta({ description: 'only connected (true) or disconnected (false) chargers' }),
  status: text().min(1).max(50).optional().meta({ description: 'only chargers with a connector in this status (e.g. Faulted, Unavailable)' }),
  after: ChargerId.optional().meta({ description: 'the last id of the previous page' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'The chargers within your scope, by id, with filters; page with `after` (the last id you got)',
  request: { query: ChargerFilters },
  responses: {
    200: { description: 'chargers', content: { 'application/json': { schema: z.object({ chargers: z.array(ChargerSchema), next: z.string().nullable() }) } } },
    ...problemResponses(400, 401),
  },
});

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

/** The longest period one uptime request measures (a year and a day: every statement period fits). */
const MAX_UPTIME_DAYS = 367;

const UptimeQuery = z.object({
  connector: z.coerce.number().int().min(1).max(99).meta({ description: 'the port (connector number from 1)' }),
  from: z.iso.datetime({ offset: true }).meta({ description: 'period start, ISO-8601 with offset, e.g. 2026-05-01T00:00:00+02:00' }),
  to: z.iso.datetime({ offset: true }).meta({ description: 'period end (exclusive), ISO-8601 with offset' }),
});

const UptimeSchema = z
  .object({
    chargerId: z.string(),
    connectorId: z.number().int(),
    agreement: z.object({ id: z.string(), version: z.number().int() }),
    from: z.string(),
    to: z.string(),
    measuredUntil: z.string().meta({ description: 'where the measurement ended: `to`, or now when `to` is in the future' }),
    periodMinutes: z.number(),
    outageMinutes: z.number(),
    excludedMinutes: z.number(),
    uptimePercent: z.number(),
    outages: z
      .array(
        z.object({
          start: z.string(),
          end: z.string(),
          cause: z.string().meta({ description: 'fault, offline, unknown (Unavailable), or the covering incident’s excludable root cause: utility, vandalism, vehicle, scheduled-maintenance, natural-disaster' }),
          incidentId: z.string().nullable().meta({ description: 'the incident that covered the outage' }),
          excluded: z.boolean().meta({ description: 'excused by the agreement: its cause is excluded, within the cap' }),
          overCap: z.boolean().meta({ description: 'beyond the agreement’s cap for its cause, so it counts' }),
        }),
      )
      .meta({ description: 'each outage in the period, clipped to it, so the figures can be traced' }),
  })
  .openapi('PortUptime');

const uptime = createRoute({
  method: 'get',
  path: '/{id}/uptime',
  summary: "A port's NEVI uptime over a period, under the agreement in force that covers the charger (the same figures as `concierge uptime`)",
  request: { params: z.object({ id: ChargerId }), query: UptimeQuery },
  responses: {
    200: { description: 'the uptime', content: { 'application/json': { schema: UptimeSchema } } },
    ...problemResponses(400, 401, 404, 409),
  },
});

export function chargerRoutes({ db }: ApiDeps) {
  /** Chargers with their connectors and what covers them, in the order of `ids`. */
  const loadChargers = (ids: string[]) => chargerViews(db, ids);
  const loadCharger = async (id: string) => (await loadChargers([id]))[0] ?? null;

  /**
   * The site a new charger is registered at: the covering agreement's (a different one is refused,
   * naming it); for a charger no agreement covers, any label but a site of an agreement in force.
   */
  async function siteFor(chargerId: string, siteId: string | undefined): Promise<string | null> {
    const covered = await db.selectFrom('agreementChargers').select(['agreementId', 'siteId']).where('chargerId', '=', chargerId).executeTakeFirst();
    if (covered) {
      if (siteId !== undefined && siteId !== covered.siteId) {
        throw invalidRequest([{ path: ['siteId'], message: `charger ${chargerId} is covered by agreement ${covered.agreementId} at site ${covered.siteId}; leave siteId out or give ${covered.siteId}` }], 'body');
      }
      return covered.siteId;
    }
    if (siteId === undefined) return null;
    const owner = (await agreementsInForce(db)).find((a) => a.sites.some((s) => s.id === siteId));
    if (owner) throw invalidRequest([{ path: ['siteId'], message: `site ${siteId} belongs to agreement ${owner.id}, which does not list charger ${chargerId}; add the charger to that site in the agreement first` }], 'body');
    return siteId;
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
          siteId: await siteFor(body.id, body.siteId),
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
    .openapi(list, async (c) => {
      const filters = c.req.valid('query');
      const actor = c.get('actor');
      const scope = c.get('scope');
      if (actor.role === 'venue' && !scope?.sites?.length) return c.json({ chargers: [], next: null }, 200);
      let query = db.selectFrom('chargers as ch').leftJoin('agreementChargers as ac', 'ac.chargerId', 'ch.id').select('ch.id').orderBy('ch.id').limit(filters.limit + 1);
      // A scoped token sees the chargers its agreements and sites list, as for a single charger.
      if (scope?.agreements?.length) query = query.where('ac.agreementId', 'in', scope.agreements);
      if (scope?.sites?.length) query = query.where('ac.siteId', 'in', scope.sites);
      if (filters.agreement) query = query.where('ac.agreementId', '=', filters.agreement);
      if (filters.site) query = query.where((eb) => eb.or([eb('ac.siteId', '=', filters.site!), eb.and([eb('ac.siteId', 'is', null), eb('ch.siteId', '=', filters.site!)])]));
      if (filters.connected) query = query.where('ch.connected', '=', filters.connected === 'true');
      if (filters.status) query = query.where((eb) => eb.exists(eb.selectFrom('connectorStatus as cs').select('cs.chargerId').whereRef('cs.chargerId', '=', 'ch.id').where('cs.status', '=', filters.status!)));
      if (filters.after) query = query.where('ch.id', '>', filters.after);
      const ids = (await query.execute()).map((r) => r.id);
      const page = ids.slice(0, filters.limit);
      return c.json({ chargers: await loadChargers(page), next: ids.length > filters.limit ? page.at(-1)! : null }, 200);
    })
    .openapi(show, async (c) => {
      const { id } = c.req.valid('param');
      const charger = (await chargerInScope(db, id, c.get('actor'), c.get('scope'))) ? await loadCharger(id) : null;
      if (!charger) throw notFound('charger');
      return c.json(charger, 200);
    })
    .openapi(uptime, async (c) => {
      const { id } = c.req.valid('param');
      const query = c.req.valid('query');
      if (!(await chargerInScope(db, id, c.get('actor'), c.get('scope'))) || !(await loadCharger(id))) throw notFound('charger');
      const period = { start: new Date(query.from), end: new Date(query.to) };
      const wrong = (path: string, message: string) => invalidRequest([{ path: [path], message }], 'query');
      if (period.end <= period.start) throw wrong('to', `must be after from (${query.from})`);
      if (period.end.getTime() - period.start.getTime() > MAX_UPTIME_DAYS * 86_400_000) throw wrong('to', `the period may be at most ${MAX_UPTIME_DAYS} days; ask for it in parts`);
      if (period.start >= new Date()) throw wrong('from', `${query.from} has not come yet: nothing to measure`);
      const inForce = await agreementForCharger(db, id);
      if (!inForce) throw conflict(`charger ${id} is covered by no agreement in force: uptime is measured against an agreement's operating hours and exclusions`);
      const result = await portUptimeFromHistory(db, inForce.agreement, id, query.connector, period);
      return c.json({ chargerId: id, connectorId: query.connector, agreement: { id: inForce.agreement.id, version: inForce.version }, from: period.start.toISOString(), to: period.end.toISOString(), ...result }, 200);
    });
}

/** Chargers as the API shows them: identity, connection, coverage, and each connector's latest status. */
export async function chargerViews(db: Db, ids: string[]) {
  if (ids.length === 0) return [];
  const [chargers, connectors, coverage, agreements] = await Promise.all([
    db.selectFrom('chargers').selectAll().where('id', 'in', ids).execute(),
    db.selectFrom('connectorStatus').selectAll().where('chargerId', 'in', ids).orderBy('connectorId').execute(),
    db.selectFrom('agreementChargers').selectAll().where('chargerId', 'in', ids).execute(),
    agreementsInForce(db),
  ]);
  const siteNames = new Map(agreements.flatMap((a) => a.sites.map((s) => [`${a.id}\u0000${s.id}`, s.name] as const)));
  const byId = new Map(chargers.map((c) => [c.id, c]));
  return ids.flatMap((id) => {
    const charger = byId.get(id);
    if (!charger) return [];
    const covered = coverage.find((c) => c.chargerId === id);
    return [
      {
        id: charger.id,
        siteId: covered?.siteId ?? charger.siteId,
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
        coveredBy: covered ? { agreement: covered.agreementId, site: covered.siteId, siteName: siteNames.get(`${covered.agreementId}\u0000${covered.siteId}`) ?? null } : null,
        connectors: connectors
          .filter((c) => c.chargerId === id)
          .map((c) => ({ connectorId: c.connectorId, status: c.status, errorCode: c.errorCode, vendorErrorCode: c.vendorErrorCode, info: c.info, at: c.at.toISOString() })),
      },
    ];
  });
}
