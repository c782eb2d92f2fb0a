import type { Client } from '@temporalio/client';
import type { Context } from 'hono';
import { html } from 'hono/html';
import { takeStep } from '../api/incidents.js';
import { Problem, refuseUnstorable, toProblem } from '../api/problem.js';
import { HUMAN_STEPS, type HumanStepName } from '../contracts/incident-steps.js';
import type { Incident } from '../contracts/incident.js';
import type { Db } from '../db/connect.js';
import type { ConsoleEnv } from './sessions.js';

/** A form's fields as the console reads them: strings (the last of repeated ones), lists, files. */
export type FormFields = Record<string, string | File | (string | File)[]>;

const one = (value: FormFields[string] | undefined) => (Array.isArray(value) ? value.at(-1) : value);
/** A text field, trimmed; empty is absent. */
export const textField = (form: FormFields, name: string) => {
  const value = one(form[name]);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
};
/** Every file of a field (empty file inputs send an empty, nameless one: skipped). */
export const fileFields = (form: FormFields, name: string) => [form[name]].flat().filter((v): v is File => v instanceof File && v.size > 0);

/**
 * Takes a human step from a console form: the body checked against the step's request schema
 * (contracts/incident-steps.ts, as the API checks it) and for text the database cannot store,
 * then the incident workflow's update, which decides as it does for the API. Answers null when the
 * step was taken, or what to tell the person.
 */
export async function stepFromForm(db: Db, temporal: Client, c: Context<ConsoleEnv>, incidentId: string, name: HumanStepName, body: Record<string, unknown>): Promise<string | null> {
  try {
    const parsed = HUMAN_STEPS[name].request.safeParse(body);
    if (!parsed.success) throw new Problem(400, 'Bad Request', parsed.error.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; '));
    refuseUnstorable(parsed.data, 'form');
    await takeStep(db, temporal, incidentId, name, { ...(parsed.data as object), actor: c.get('actor') }, c.get('scope'));
    return null;
  } catch (error) {
    const problem = toProblem(error, c.req.path);
    if (problem.status >= 500 && problem.status !== 503) throw error;
    return problem.detail;
  }
}

/**
 * After a form: a plain form goes (303) to the page that shows the result; an htmx one is told to
 * go there (HX-Redirect). A refusal re-renders for a plain form; for htmx, its message goes into the
 * form's status line, and what the person typed stays where it is.
 */
export function afterForm(c: Context<ConsoleEnv>, refusal: string | null, to: string, rerender: (refusal: string) => Promise<Response>) {
  if (c.req.header('hx-request')) {
    if (!refusal) {
      c.header('hx-redirect', to);
      return c.body(null, 204);
    }
    return c.html(html`<p class="error" role="alert">Not done: ${refusal}</p>`, 422);
  }
  return refusal ? rerender(refusal) : c.redirect(to, 303);
}

/** The steps a viewer may take on an incident now, from the one step table (the workflow has the last word). */
export function stepsOpenTo(role: string, status: Incident['status'], names: readonly HumanStepName[]): HumanStepName[] {
  return names.filter((name) => (HUMAN_STEPS[name].roles as readonly string[]).includes(role) && (HUMAN_STEPS[name].from as readonly string[]).includes(status));
}

/** The status line every form has: where a refusal or "not sent" is said. */
export const formStatus = (refusal: string | null = null) => html`<div class="form-status" aria-live="polite">${refusal ? html`<p class="error" role="alert">Not done: ${refusal}</p>` : ''}</div>`;
