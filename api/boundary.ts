import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import bytes from 'bytes';
import { MAX_PHOTO_BYTES } from '../contracts/incident.js';
import type { ApiEnv } from './env.js';
import { Problem } from './problem.js';

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
