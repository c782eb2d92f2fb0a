import { Hono } from 'hono';
import { html } from 'hono/html';
import { toProblem } from '../api/problem.js';
import { STATEMENT_DOCUMENTS, maySeeSessions, statementDocument, visibleStatement, visibleStatements, type StatementDocumentName } from '../api/statements.js';
import type { Agreement } from '../contracts/agreement.js';
import type { Db } from '../db/connect.js';
import { notFoundPage } from './layout.js';
import type { ConsoleEnv } from './sessions.js';

/**
 * A statement's HTML is the e-mail's body: styled inline, no script. It is served with a policy of
 * its own that lets those styles through and nothing else.
 */
const STATEMENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Statements as the API serves them (the same visibility rules and bytes), for a signed-in person. */
export function statementPages(db: Db) {
  return new Hono<ConsoleEnv>().get('/statements/:id/:document', async (c) => {
    const { id, document } = c.req.param();
    const found = (STATEMENT_DOCUMENTS as string[]).includes(document) ? await visibleStatement(db, id, c.get('actor'), c.get('scope')) : null;
    if (!found) return notFoundPage(c);
    try {
      const { body, headers } = await statementDocument(db, found, document as StatementDocumentName, c.get('actor'));
      if (document === 'html') c.header('content-security-policy', STATEMENT_POLICY);
      return c.body(body, 200, headers);
    } catch (error) {
      const problem = toProblem(error, c.req.path);
      if (problem.status !== 403) throw error;
      return c.text(problem.detail, 403);
    }
  });
}

/** The statements a viewer may see, as a table with each document a link. */
export async function statementsTable(db: Db, viewer: ConsoleEnv['Variables'], agreements: Map<string, Agreement>) {
  const rows = await visibleStatements(db, viewer.actor, viewer.scope);
  if (rows.length === 0) return html`<p>No statement yet: the first comes after the first month is settled.</p>`;
  return html`<table class="board">
    <caption>Statements and notes, newest first</caption>
    <thead><tr><th scope="col">Number</th><th scope="col">Month</th><th scope="col">Kind</th><th scope="col">Issued</th><th scope="col">Due</th><th scope="col">Documents</th></tr></thead>
    <tbody>
      ${rows.map((r) => {
        const agreement = agreements.get(r.agreementId);
        const sessions = agreement ? maySeeSessions(agreement, viewer.actor) : false;
        const link = (doc: string, label: string) => html`<a href="/console/statements/${r.id}/${doc}">${label}</a>`;
        return html`<tr>
          <td data-label="Number">${r.id}${r.revision > 1 ? html` <small>revision ${r.revision}</small>` : ''}</td>
          <td data-label="Month">${r.month}</td>
          <td data-label="Kind">${r.kind}</td>
          <td data-label="Issued">${r.issuedOn}</td>
          <td data-label="Due">${r.due} ${r.currency}</td>
          <td data-label="Documents">${link('html', 'View')} · ${link('pdf', 'PDF')} · ${link('lines.csv', 'Lines CSV')} · ${link('outages.csv', 'Outages CSV')}${sessions ? html` · ${link('sessions.csv', 'Sessions CSV')}` : ''}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}
