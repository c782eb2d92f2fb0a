import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { MAX_PHOTO_BYTES, PHOTO_TYPES, type Photo } from '../contracts/incident.js';
import type { Db } from '../db/connect.js';
import { MAY } from '../contracts/roles.js';
import { requireRole } from './auth.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { storableText, unstorableCharacter } from '../contracts/storable-text.js';
import { invalidRequest, notFound, Problem, problemResponses, unstorable } from './problem.js';
import { scoped } from './scope.js';

const PhotoSchema = z
  .object({ id: z.string(), name: z.string(), contentType: z.string(), sizeBytes: z.number().int(), sha256: z.string(), uploadedBy: z.string(), uploadedAt: z.string() })
  .openapi('Photo');

const params = z.object({ id: z.uuid() });

const upload = createRoute({
  method: 'post',
  path: '/{id}/photos',
  summary: `Upload a photo to an incident (JPEG, PNG, HEIC or WebP, at most ${MAX_PHOTO_BYTES / 1024 / 1024} MB); pass its id to the fix step`,
  // Its body is bounded by the photo limit (api/boundary.ts).
  middleware: [requireRole(...MAY.workChargers)] as const,
  request: {
    params,
    body: { required: true, content: { 'multipart/form-data': { schema: z.object({ photo: z.custom<File>((value) => value instanceof File, 'send the image as the multipart field "photo"').openapi({ type: 'string', format: 'binary', minLength: 1 }) }) } } },
  },
  responses: {
    201: { description: 'the stored photo', content: { 'application/json': { schema: PhotoSchema } } },
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

const download = createRoute({
  method: 'get',
  path: '/{id}/photos/{photoId}',
  summary: 'A photo of an incident',
  request: { params: params.extend({ photoId: z.uuid() }) },
  responses: { 200: { description: 'the image' }, ...problemResponses(401, 404) },
});

/** What the first bytes say the file is: the declared type must match, so a renamed executable is refused. */
function sniff(bytes: Uint8Array): string | null {
  const ascii = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(4, 8) === 'ftyp' && ['heic', 'heix', 'mif1', 'msf1', 'heim', 'heis'].includes(ascii(8, 12))) return 'image/heic';
  return null;
}

/**
 * Photos on an incident: stored under the attachments folder by id, described in `attachments`.
 * (Several API processes need that folder shared, e.g. a network volume.)
 */
export function attachmentRoutes({ db, attachmentsDir }: ApiDeps) {
  return new OpenAPIHono<ApiEnv>()
    .openapi(upload, async (c) => {
      const { id } = c.req.valid('param');
      const incident = await scoped(db.selectFrom('incidents').select('id'), 'incidents', c.get('actor'), c.get('scope')).where('id', '=', id).executeTakeFirst();
      if (!incident) throw notFound('incident');
      const { photo } = c.req.valid('form') as { photo: unknown };
      if (!(photo instanceof File)) throw new Problem(400, 'Bad Request', 'send the image as the multipart field "photo"');
      const row = await storePhoto(db, attachmentsDir, id, photo, c.get('actor').name);
      return c.json({ ...row, uploadedAt: row.uploadedAt.toISOString() }, 201);
    })
    .openapi(download, async (c) => {
      const { id, photoId } = c.req.valid('param');
      const incident = await scoped(db.selectFrom('incidents').select('id'), 'incidents', c.get('actor'), c.get('scope')).where('id', '=', id).executeTakeFirst();
      const photo = incident && (await readPhoto(db, attachmentsDir, id, photoId));
      if (!photo) throw notFound('photo');
      return c.body(photo.bytes, 200, photo.headers);
    });
}

/**
 * Stores a photo of an incident (the caller has checked the incident is in scope): refused with a
 * Problem when it is empty, too big, not an accepted image by its own bytes, or named with text the
 * database cannot store. The API's upload and the console's fix form both store through here.
 */
export async function storePhoto(db: Db, attachmentsDir: string, incidentId: string, photo: File, uploadedBy: string) {
  const character = unstorableCharacter(photo.name);
  if (character) throw invalidRequest([{ path: ['photo', 'filename'], message: unstorable(character) }], 'form');
  const bytes = new Uint8Array(await photo.arrayBuffer());
  if (bytes.length === 0) throw new Problem(400, 'Bad Request', 'the photo is empty');
  if (bytes.length > MAX_PHOTO_BYTES) throw new Problem(413, 'Payload Too Large', `a photo may be at most ${MAX_PHOTO_BYTES} bytes`);
  const contentType = sniff(bytes);
  if (!contentType) throw new Problem(400, 'Bad Request', `not an image of an accepted type (${PHOTO_TYPES.join(', ')})`);
  const photoId = randomUUID();
  await mkdir(attachmentsDir, { recursive: true });
  await writeFile(path.join(attachmentsDir, photoId), bytes);
  return db
    .insertInto('attachments')
    .values({
      id: photoId,
      incidentId,
      name: storableText((photo.name || 'photo').slice(0, 200)),
      contentType,
      sizeBytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      uploadedBy,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Reads a stored photo of an incident the caller may see: its bytes and the headers to serve them with, or null. */
export async function readPhoto(db: Db, attachmentsDir: string, incidentId: string, photoId: string) {
  const photo = await db.selectFrom('attachments').selectAll().where('id', '=', photoId).where('incidentId', '=', incidentId).executeTakeFirst();
  if (!photo) return null;
  const bytes = await readFile(path.join(attachmentsDir, photo.id));
  // The type is the one sniffed at upload; the file name is ours (its id), never the uploader's text.
  const extension = photo.contentType.slice('image/'.length);
  return { bytes, headers: { 'content-type': photo.contentType, 'content-disposition': `inline; filename="${photo.id}.${extension}"`, 'cache-control': 'private, max-age=3600' } };
}

/** The fix step's photos from uploaded attachment ids: each must belong to the incident. */
export async function photosOf(db: Db, incidentId: string, photoIds: string[]): Promise<Photo[]> {
  if (photoIds.length === 0) return [];
  const rows = await db.selectFrom('attachments').select(['id', 'name', 'contentType', 'sizeBytes']).where('incidentId', '=', incidentId).where('id', 'in', photoIds).execute();
  const missing = photoIds.filter((pid) => !rows.some((r) => r.id === pid));
  if (missing.length > 0) throw new Problem(400, 'Bad Request', `no photo ${missing.join(', ')} on this incident; upload it first`);
  return rows.map((r) => ({ id: r.id, name: r.name, contentType: r.contentType, sizeBytes: r.sizeBytes }));
}
