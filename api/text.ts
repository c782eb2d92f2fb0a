import { z } from '@hono/zod-openapi';

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what the pattern states
export const WITHOUT_NUL = /^[^\u0000]*$/;

/**
 * Free text a client sends: anything the database can store. The document states the NUL rule as a
 * pattern; lone surrogates, which no pattern can state, are refused by the same check after
 * validation (api/boundary.ts).
 */
export const text = () => z.string().regex(WITHOUT_NUL, 'may not contain U+0000 (NUL): it cannot be stored');
