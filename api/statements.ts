import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { statementDocuments, statementLineEvidence } from '../agreements/statement-documents.js';
import type { Agreement } from '../contracts/agreement.js';
import type { Actor } from '../contracts/incident.js';
import { MAY } from '../contracts/roles.js';
import { settlementWorkflowId } from '../contracts/settlement-process.js';
import type { Db } from '../db/connect.js';
import type { TokenScope } from '../db/schema.js';
import { approveStatement, settlementQuery, settlementWorkflow } from '../workflows/settlement/workflow.js';
import { agreementsInForce } from '../agreements/store.js';
import { requireRole } from './auth.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { conflict, forbidden, invalidRequest, notFound, Problem, problemResponses } from './problem.js';
import { monthPeriod } from '../agreements/month-figures.js';
import { CdrNotCreditable, creditCdr } from '../agreements/cdrs.js';
import { monthAt } from '../contracts/agreement-lifecycle.js';

const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as yyyy-mm').openapi({ example: '2026-05' });
const AgreementId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected an agreement id');
const StatementId = z.object({ id: z.string().regex(/^[A-Z0-9-]{1,80}$/, 'expected a statement number such as PLUGCO-2026-00001') });

const StatementSummary = z
  .object({
    id: z.string(),
    kind: z.enum(['statement', 'credit-note', 'debit-note']),
    agreementId: z.string(),
    month: z.string(),
    revision: z.number().int(),
    referencesId: z.string().nullable(),
    issuedOn: z.string(),
    currency: z.string(),
    due: z.string().meta({ description: 'what the venue owes the operator (negative: the operator owes the venue), in the currency' }),
    events: z.array(z.object({ kind: z.string(), actor: z.string().nullable(), at: z.string() })),
  })
  .openapi('StatementSummary');

const SettlementStatus = z
  .object({ agreementId: z.string(), month: z.string(), status: z.string(), statementId: z.string().nullable(), revision: z.number().nullable(), noteId: z.string().nullable(), approvedBy: z.string().nullable() })
  .openapi('SettlementStatus');

const settle = createRoute({
  method: 'post',
  path: '/settlements',
  summary: "Settle an agreement's month that is over, now: issues its statement (or finds it unchanged), then — after approval where the agreement asks for it — sends it",
  middleware: [requireRole(...MAY.settleAccounts)] as const,
  request: { body: { required: true, content: { 'application/json': { schema: z.object({ agreementId: AgreementId, month: Month }) } } } },
  responses: {
    202: { description: 'the settlement runs', content: { 'application/json': { schema: z.object({ workflowId: z.string() }) } } },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

const settlementStatus = createRoute({
  method: 'get',
  path: '/settlements/{agreementId}/{month}',
  summary: "Where a month's settlement stands: issuing, awaiting approval, sending, sent, or unchanged",
  request: { params: z.object({ agreementId: AgreementId, month: Month }) },
  responses: {
    200: { description: 'the settlement', content: { 'application/json': { schema: SettlementStatus } } },
    ...problemResponses(401, 404),
  },
});

const list = createRoute({
  method: 'get',
  path: '/statements',
  summary: 'Statements and notes you may see, newest first',
  request: { query: z.object({ agreement: AgreementId.optional(), month: Month.optional() }) },
  responses: {
    200: { description: 'statements', content: { 'application/json': { schema: z.object({ statements: z.array(StatementSummary) }) } } },
    ...problemResponses(400, 401),
  },
});

const show = createRoute({
  method: 'get',
  path: '/statements/{id}',
  summary: 'A statement or note as issued: its lines, what is due, and the evidence (ports, outages, breached incidents)',
  request: { params: StatementId },
  responses: {
    200: { description: 'the statement', content: { 'application/json': { schema: StatementSummary.extend({ content: z.unknown() }) } } },
    ...problemResponses(401, 404),
  },
});

const DOCUMENTS = { html: 'text/html; charset=utf-8', pdf: 'application/pdf', 'lines.csv': 'text/csv; charset=utf-8', 'sessions.csv': 'text/csv; charset=utf-8', 'outages.csv': 'text/csv; charset=utf-8' } as const;
const document = createRoute({
  method: 'get',
  path: '/statements/{id}/documents/{document}',
  summary: 'A statement as HTML, PDF, or CSV of its lines, sessions (CDRs; where the agreement grants you session data) or outages — the same bytes every time',
  request: { params: StatementId.extend({ document: z.enum(Object.keys(DOCUMENTS) as [keyof typeof DOCUMENTS, ...(keyof typeof DOCUMENTS)[]]) }) },
  responses: {
    200: { description: 'the document', content: Object.fromEntries(Object.values(DOCUMENTS).map((type) => [type, { schema: z.string() }])) },
    ...problemResponses(401, 403, 404),
  },
});

const lineEvidence = createRoute({
  method: 'get',
  path: '/statements/{id}/lines/{line}',
  summary: "What one line of a statement rests on: the CDRs it adds up, the ports and outages behind an uptime credit, the incidents behind a breaches credit (sessions where you may see session data)",
  request: { params: StatementId.extend({ line: z.coerce.number().int().min(1).max(100_000).openapi({ description: 'the line, counted from 1 in the statement’s order' }) }) },
  responses: {
    200: {
      description: 'the line and its evidence',
      content: { 'application/json': { schema: z.object({ line: z.unknown(), cdrs: z.array(z.string()).nullable(), ports: z.array(z.unknown()).nullable(), incidents: z.array(z.string()).nullable() }).openapi('LineEvidence') } },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

const approve = createRoute({
  method: 'post',
  path: '/statements/{id}/approve',
  summary: 'Approve a statement the agreement asks to approve before it is sent (account managers); it is sent then',
  middleware: [requireRole(...MAY.settleAccounts)] as const,
  request: { params: StatementId },
  responses: {
    200: { description: 'approved; the settlement sends it', content: { 'application/json': { schema: SettlementStatus } } },
    ...problemResponses(401, 403, 404, 409),
  },
});

const CdrId = z.object({ id: z.string().regex(/^CDR-[0-9]{1,19}(-CREDIT)?$/, 'expected a CDR id such as CDR-42') });
const Cdr = z
  .object({ id: z.string(), credit: z.boolean(), creditReferenceId: z.string().nullable(), creditedBy: z.string().nullable(), agreementId: z.string(), month: z.string().meta({ description: 'the month (agreement time zone) whose statement counts it' }), document: z.unknown() })
  .openapi('Cdr');

const showCdr = createRoute({
  method: 'get',
  path: '/cdrs/{id}',
  summary: "A session's CDR (OCPI 2.2.1) as issued, and the credit CDR that cancels it, if any — where you may see session data",
  request: { params: CdrId },
  responses: {
    200: { description: 'the CDR', content: { 'application/json': { schema: Cdr } } },
    ...problemResponses(401, 403, 404),
  },
});

const credit = createRoute({
  method: 'post',
  path: '/cdrs/{id}/credit',
  summary: 'Credit a CDR (account managers): the session is not charged after all. A credit CDR with negated amounts is issued beside it; re-settling its month gives a new revision and a note',
  middleware: [requireRole(...MAY.settleAccounts)] as const,
  request: { params: CdrId, body: { required: true, content: { 'application/json': { schema: z.object({ reason: z.string().trim().min(1).max(500).meta({ description: 'why: a test session, a duplicate, a refund granted' }) }) } } } },
  responses: {
    201: { description: 'the credit CDR', content: { 'application/json': { schema: Cdr } } },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

export function statementRoutes({ db, temporal, taskQueue }: ApiDeps) {
  const visible = (id: string, actor: Actor, scope: TokenScope | null) => visibleStatement(db, id, actor, scope);

  /** The CDR as the API shows it, if the caller may see session data of its agreement (else null: 404, or 403 for a venue without the grant). */
  async function visibleCdr(id: string, actor: Actor, scope: TokenScope | null) {
    const row = await db.selectFrom('cdrs').select(['id', 'credit', 'creditReferenceId', 'agreementId', 'agreementVersion', 'endDateTime', 'document']).where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const agreement = await agreementOf(db, row.agreementId, row.agreementVersion);
    if (!maySee(agreement, actor, scope)) return null;
    if (!maySeeSessions(agreement, actor)) throw forbidden('the agreement does not grant the venue session-level data');
    const creditedBy = row.credit ? null : ((await db.selectFrom('cdrs').select('id').where('creditReferenceId', '=', id).executeTakeFirst())?.id ?? null);
    const month = monthOf(agreement, row.endDateTime);
    return { id: row.id, credit: row.credit, creditReferenceId: row.creditReferenceId, creditedBy, agreementId: row.agreementId, month, document: JSON.parse(row.document) as unknown };
  }

  return new OpenAPIHono<ApiEnv>()
    .openapi(showCdr, async (c) => {
      const found = await visibleCdr(c.req.valid('param').id, c.get('actor'), c.get('scope'));
      if (!found) throw notFound('CDR');
      return c.json(found, 200);
    })
    .openapi(credit, async (c) => {
      const { id } = c.req.valid('param');
      if (!(await visibleCdr(id, c.get('actor'), c.get('scope')))) throw notFound('CDR');
      try {
        const creditId = await creditCdr(db, { cdrId: id, reason: c.req.valid('json').reason });
        return c.json((await visibleCdr(creditId!, c.get('actor'), c.get('scope')))!, 201);
      } catch (error) {
        if (error instanceof CdrNotCreditable) throw conflict(error.message);
        throw error;
      }
    })
    .openapi(settle, async (c) => {
      const { agreementId, month } = c.req.valid('json');
      const agreement = (await agreementsInForce(db)).find((a) => a.id === agreementId);
      if (!agreement || !maySee(agreement, c.get('actor'), c.get('scope'))) throw notFound('agreement');
      if (monthPeriod(agreement, month).end > new Date()) throw invalidRequest([{ path: ['month'], message: `${month} is not over in ${agreement.sites[0]!.timeZone}: a month is settled once it has ended` }], 'body');
      const workflowId = settlementWorkflowId(agreementId, month);
      try {
        await temporal.workflow.start(settlementWorkflow, { workflowId, taskQueue, args: [{ agreementId, month }] });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw conflict(`${month} of ${agreementId} is being settled already: GET /api/settlements/${agreementId}/${month}`);
        throw error;
      }
      return c.json({ workflowId }, 202);
    })
    .openapi(settlementStatus, async (c) => {
      const { agreementId, month } = c.req.valid('param');
      const agreement = (await agreementsInForce(db)).find((a) => a.id === agreementId);
      if (!agreement || !maySee(agreement, c.get('actor'), c.get('scope'))) throw notFound('settlement');
      try {
        return c.json(await temporal.workflow.getHandle(settlementWorkflowId(agreementId, month)).query(settlementQuery), 200);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw notFound('settlement');
        throw error;
      }
    })
    .openapi(list, async (c) => {
      const { agreement, month } = c.req.valid('query');
      const shown = await visibleStatements(db, c.get('actor'), c.get('scope'), { agreement, month });
      return c.json({ statements: await summaries(db, shown) }, 200);
    })
    .openapi(show, async (c) => {
      const found = await visible(c.req.valid('param').id, c.get('actor'), c.get('scope'));
      if (!found) throw notFound('statement');
      const [summary] = await summaries(db, [found.row]);
      return c.json({ ...summary!, content: found.row.content }, 200);
    })
    .openapi(document, async (c) => {
      const { id, document: which } = c.req.valid('param');
      const found = await visible(id, c.get('actor'), c.get('scope'));
      if (!found) throw notFound('statement');
      const { body, headers } = await statementDocument(db, found, which, c.get('actor'));
      return c.body(body, 200, headers);
    })
    .openapi(lineEvidence, async (c) => {
      const { id, line } = c.req.valid('param');
      const found = await visible(id, c.get('actor'), c.get('scope'));
      if (!found) throw notFound('statement');
      const evidence = await statementLineEvidence(db, id, line);
      if (!evidence) throw notFound('line');
      if (evidence.cdrs && !maySeeSessions(found.agreement, c.get('actor'))) {
        throw forbidden('the agreement does not grant the venue session-level data: this line rests on sessions');
      }
      return c.json(evidence, 200);
    })
    .openapi(approve, async (c) => c.json(await approveFor(db, temporal, c.req.valid('param').id, c.get('actor'), c.get('scope')), 200));
}

/**
 * An account manager's approval of a statement awaiting it: the settlement workflow's Update, which
 * sends it. Refusals: 404 (not a statement the caller sees), 403 (role), 409 (nothing awaits approval).
 */
export async function approveFor(db: Db, temporal: Client, id: string, actor: Actor, scope: TokenScope | null) {
  const found = await visibleStatement(db, id, actor, scope);
  if (!found || found.row.kind !== 'statement') throw notFound('statement');
  try {
    return await temporal.workflow.getHandle(settlementWorkflowId(found.row.agreementId, found.row.month)).executeUpdate(approveStatement, { args: [{ actor, statementId: found.row.id }] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      if (error.cause.type === 'Forbidden') throw forbidden(error.cause.message);
      if (error.cause.type === 'InvalidTransition') throw conflict(error.cause.message);
      if (error.cause.type === 'InvalidRequest') throw new Problem(409, 'Conflict', error.cause.message);
    }
    if (error instanceof WorkflowNotFoundError) throw conflict(`no settlement of ${found.row.month} is waiting for approval of ${found.row.id}`);
    throw error;
  }
}

const monthOf = (agreement: Agreement, at: Date) => monthAt(at, agreement.sites[0]!.timeZone);

async function agreementOf(db: Db, agreementId: string, version: number): Promise<Agreement> {
  const row = await db.selectFrom('agreementVersions').select('content').where('agreementId', '=', agreementId).where('version', '=', version).executeTakeFirstOrThrow();
  return row.content as Agreement;
}

/** The statement's row and agreement, if the caller may see it (else null: 404). */
export async function visibleStatement(db: Db, id: string, actor: Actor, scope: TokenScope | null) {
  const row = await db.selectFrom('statements').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const agreement = await agreementOf(db, row.agreementId, row.agreementVersion);
  if (!maySee(agreement, actor, scope)) return null;
  if (actor.role === 'venue' && !(await releasedToVenue(db, row, agreement))) return null;
  return { row, agreement };
}

/**
 * A venue sees a statement (and its revision's note) once it is released to it: at once where the
 * agreement asks for no approval, else once an account manager approved that revision. A draft
 * awaiting approval is the operator's to check, not yet the venue's to read.
 */
async function releasedToVenue(db: Db, row: { agreementId: string; month: string; revision: number }, agreement: Agreement): Promise<boolean> {
  if (!agreement.settlement.approvalBeforeSending) return true;
  const approved = await db
    .selectFrom('statementEvents')
    .innerJoin('statements', 'statements.id', 'statementEvents.statementId')
    .select('statementEvents.id')
    .where('statementEvents.kind', '=', 'approved')
    .where('statements.kind', '=', 'statement')
    .where('statements.agreementId', '=', row.agreementId)
    .where('statements.month', '=', row.month)
    .where('statements.revision', '=', row.revision)
    .executeTakeFirst();
  return approved !== undefined;
}

/** The statements and notes the caller may see (a venue: those released to it), newest first (at most 500), optionally of one agreement or month. */
export async function visibleStatements(db: Db, actor: Actor, scope: TokenScope | null, only: { agreement?: string | undefined; month?: string | undefined } = {}) {
  const rows = await db
    .selectFrom('statements')
    .selectAll()
    .$if(only.agreement !== undefined, (q) => q.where('agreementId', '=', only.agreement!))
    .$if(only.month !== undefined, (q) => q.where('month', '=', only.month!))
    .orderBy('year', 'desc')
    .orderBy('seq', 'desc')
    .limit(500)
    .execute();
  const shown = [];
  for (const row of rows) {
    const agreement = await agreementOf(db, row.agreementId, row.agreementVersion);
    if (maySee(agreement, actor, scope) && (actor.role !== 'venue' || (await releasedToVenue(db, row, agreement)))) shown.push(row);
  }
  return shown;
}

export type StatementDocumentName = keyof typeof DOCUMENTS;
export const STATEMENT_DOCUMENTS = Object.keys(DOCUMENTS) as StatementDocumentName[];

/** One of a visible statement's documents with the headers to serve it; sessions only where the agreement grants the viewer session data (else 403). */
export async function statementDocument(db: Db, found: { row: { id: string }; agreement: Agreement }, which: StatementDocumentName, actor: Actor) {
  const { id } = found.row;
  if (which === 'sessions.csv' && !maySeeSessions(found.agreement, actor)) {
    throw forbidden('the agreement does not grant the venue session-level data; the lines and outages are yours to read');
  }
  const documents = (await statementDocuments(db, id))!;
  const body = which === 'html' ? documents.html : which === 'pdf' ? documents.pdf : documents.csv[which.replace('.csv', '') as 'lines' | 'sessions' | 'outages'];
  const filename = which === 'html' ? `${id}.html` : which === 'pdf' ? `${id}.pdf` : `${id}-${which}`;
  return { body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': DOCUMENTS[which], 'content-disposition': `${which === 'html' ? 'inline' : 'attachment'}; filename="${filename}"` } };
}

/** Session-level data (CDRs): a venue only where the agreement's data access grants it sessions; other roles as their scope allows. */
export function maySeeSessions(agreement: Agreement, actor: Actor): boolean {
  return actor.role !== 'venue' || agreement.dataAccess[agreement.ownership.venue]?.sessions === true;
}

/** Venues see the statements of agreements with one of their sites; other tokens within their agreements and sites. */
function maySee(agreement: Agreement, actor: Actor, scope: TokenScope | null): boolean {
  const sites = agreement.sites.map((s) => s.id);
  if (actor.role === 'venue' && !scope?.sites?.length) return false;
  if (scope?.sites?.length && !scope.sites.some((s) => sites.includes(s))) return false;
  if (scope?.agreements?.length && !scope.agreements.includes(agreement.id)) return false;
  return true;
}

async function summaries(db: Db, rows: { id: string; kind: 'statement' | 'credit-note' | 'debit-note'; agreementId: string; month: string; revision: number; referencesId: string | null; issuedOn: string; currency: string; due: string }[]) {
  const events = rows.length ? await db.selectFrom('statementEvents').select(['statementId', 'kind', 'actor', 'at']).where('statementId', 'in', rows.map((r) => r.id)).orderBy('at').orderBy('id').execute() : [];
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    agreementId: r.agreementId,
    month: r.month,
    revision: r.revision,
    referencesId: r.referencesId,
    issuedOn: r.issuedOn,
    currency: r.currency,
    due: r.due,
    events: events.filter((e) => e.statementId === r.id).map((e) => ({ kind: e.kind, actor: e.actor, at: e.at.toISOString() })),
  }));
}
