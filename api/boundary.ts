import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import bytes from 'bytes';
import { MAX_PHOTO_BYTES } from '../contracts/incident.js';
import { unstorableCharacter, unstorableStrings } from '../contracts/storable-text.js';
import type { ApiEnv } from './env.js';
import { invalidRequest, Problem } from './problem.js';

/** Room for a photo's multipart framing beside the photo itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Every request body is bounded before anything reads it, whether it declares its length or comes
 * chunked: `limitBytes` for JSON and anything else, the photo limit for multipart uploads.
 */
export function boundedBodies(limitBytes: number) {
  const tooLarge = (limit: number) => (c: Context) => {
    // The rest of the body is not read: the connection cannot carry another request.
    c.header('connection', 'close');
    throw new Problem(413, 'Payload Too Large', `the request body may be at most ${bytes.format(limit)} (${limit} bytes)`);
  };
  const json = bodyLimit({ maxSize: limitBytes, onError: tooLarge(limitBytes) });
  const photoLimit = MAX_PHOTO_BYTES + MULTIPART_OVERHEAD;
  const multipart = bodyLimit({ maxSize: photoLimit, onError: tooLarge(photoLimit) });
  return createMiddleware<ApiEnv>((c, next) => ((c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data') ? multipart(c, next) : json(c, next)));
}

const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not percent-encoding: routing answers it
  }
};

/**
 * No text the database cannot store (NUL, lone surrogates: see contracts/storable-text.ts) gets
 * past the API: a path segment, a query parameter or any string in a JSON body that holds one is
 * refused with a 400 naming it, before a route reads it, so nothing is recorded.
 */
export const storableInput = createMiddleware<ApiEnv>(async (c, next) => {
  const url = new URL(c.req.url);
  const inPath = url.pathname.split('/').map(decoded).flatMap((segment, i) => {
    const character = unstorableCharacter(segment);
    return character ? [{ path: [`segment ${i}`], message: unstorable(character) }] : [];
  });
  if (inPath.length > 0) throw invalidRequest(inPath, 'path');
  const inQuery = [...url.searchParams].flatMap(([name, value]) => {
    const character = unstorableCharacter(name) ?? unstorableCharacter(value);
    return character ? [{ path: [name], message: unstorable(character) }] : [];
  });
  if (inQuery.length > 0) throw invalidRequest(inQuery, 'query');
  if ((c.req.header('content-type') ?? '').toLowerCase().includes('json')) {
    // Parsed once: Hono keeps the parsed body for the route's validator. Malformed JSON is the validator's to answer.
    const body: unknown = await c.req.json().catch(() => undefined);
    const inBody = unstorableStrings(body).map(({ path, character }) => ({ path, message: unstorable(character) }));
    if (inBody.length > 0) throw invalidRequest(inBody, 'body');
  }
  await next();
});

export const unstorable = (character: string) => `contains ${character}, a character that cannot be stored; remove it`;
