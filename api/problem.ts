import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { unstorableStrings } from '../contracts/storable-text.js';

/** An API error as a value: rendered once, by the app's error handler, as RFC 9457 problem+json. */
export class Problem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new Problem(404, 'Not Found', `${what} not found`);
export const forbidden = (detail: string) => new Problem(403, 'Forbidden', detail);
export const conflict = (detail: string) => new Problem(409, 'Conflict', detail);

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: 'problem', content: { 'application/problem+json': { schema: ProblemSchema } } }]),
  );

export function renderProblem(c: Context, problem: Problem): Response {
  const body = { type: 'about:blank', title: problem.title, status: problem.status, detail: problem.detail, ...problem.extra };
  return c.body(JSON.stringify(body), problem.status, { 'content-type': 'application/problem+json' });
}

/** The `reason` of the 503 a request gets while Temporal cannot be reached. */
export const TEMPORAL_UNAVAILABLE = 'TemporalUnavailable';

/** gRPC's UNAVAILABLE: the Temporal client gave up reaching the server (after its own retries). */
const GRPC_UNAVAILABLE = 14;
const temporalUnreachable = (error: unknown) => {
  const grpc = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(grpc) && grpc.code === GRPC_UNAVAILABLE;
};

/**
 * The one error handler: known problems as they are; Temporal out of reach (a step, a reported
 * problem or a command while it is down) as a 503 the client may retry; anything else as a 500
 * without internals.
 */
export function toProblem(error: unknown, path = ''): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof HTTPException) return fromHttpException(error, path);
  if (temporalUnreachable(error)) return new Problem(503, 'Service Unavailable', 'the workflow engine (Temporal) cannot be reached; try again shortly', { reason: TEMPORAL_UNAVAILABLE });
  return new Problem(500, 'Internal Server Error', 'the request could not be completed; it has been logged');
}

/** What each part of a request is called in an answer (the validator's target names are Hono's). */
const PLACES: Record<string, string> = { json: 'body', body: 'body', form: 'form', query: 'query string', param: 'path', header: 'headers', cookie: 'cookies' };

/** Validation failures from request schemas, every field at once: which part of the request, which field, what is wrong. */
export function invalidRequest(issues: readonly { path: readonly PropertyKey[]; message: string }[], where: string): Problem {
  const place = PLACES[where] ?? where;
  const errors = issues.map((issue) => ({ path: issue.path.map(String).join('.') || place, message: plainly(issue.message) }));
  return new Problem(400, 'Bad Request', `the request's ${place} is not as this route takes it: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
}

/** A field left out is "required", not "expected string, received undefined". */
function plainly(message: string): string {
  const missing = /^Invalid input: expected (\w+), received undefined$/.exec(message);
  return missing ? `required (${missing[1]})` : message;
}

/** Hono's own refusals (malformed JSON, a body of another type), with what to send instead. */
function fromHttpException(error: HTTPException, path: string): Problem {
  const status = error.status as ContentfulStatusCode;
  if (status === 400 && /JSON/i.test(error.message)) {
    return new Problem(400, 'Bad Request', 'the request body is not valid JSON; send a JSON document', { errors: [{ path: 'body', message: 'not valid JSON' }] });
  }
  if (status === 415) {
    const wanted = path.endsWith('/photos') ? 'multipart/form-data with the image in the field "photo"' : 'JSON with the header Content-Type: application/json';
    return new Problem(415, 'Unsupported Media Type', `this route takes ${wanted}`);
  }
  return new Problem(status, STATUS_TITLES[status] ?? 'Error', error.message || 'request refused');
}

const STATUS_TITLES: Partial<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Content Too Large', 415: 'Unsupported Media Type' };

/**
 * No text the database cannot store (NUL, lone surrogates: see contracts/storable-text.ts) reaches
 * a route: the validated input — path parameters, query, body, exactly what the route will use — is
 * refused with a 400 naming each such field, before anything is recorded.
 */
export function refuseUnstorable(input: unknown, where: string): void {
  const found = unstorableStrings(input).map(({ path, character }) => ({ path, message: unstorable(character) }));
  if (found.length > 0) throw invalidRequest(found, where);
}

export const unstorable = (character: string) => `contains ${character}, a character that cannot be stored; remove it`;

/**
 * A body that may be left out, checked against `schema`: none (or not JSON) counts as `{}`;
 * malformed JSON or a mismatch is a 400 naming every field.
 */
export async function optionalBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown = {};
  if (c.req.header('content-type')?.includes('json')) {
    try {
      raw = await c.req.json();
    } catch {
      throw new Problem(400, 'Bad Request', 'the request body is not valid JSON; send a JSON document', { errors: [{ path: 'body', message: 'not valid JSON' }] });
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalidRequest(parsed.error.issues, 'body');
  refuseUnstorable(parsed.data, 'body');
  return parsed.data;
}
