import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningConcierge } from '../runtime/concierge.js';
import { apiClient, startTestApp, uniqueId } from './support/app.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';
import { HandshakeRefused, RawCharger } from './support/raw-charger.js';

const PASSWORD = 'correct-horse-battery';

/**
 * What a charger can send that the database cannot store as it is — characters text and jsonb
 * refuse, numbers beyond a column or beyond sense, a URL id no charger can have — and what the
 * gateway does with each: a charger's data is kept with U+FFFD in such a character's place, an
 * out-of-range number is refused with a CALLERROR and kept in rejected_frames, a bad id is a 401.
 */
describe.each(databaseKinds)('OCPP boundaries on %s', (kind) => {
  let dataDir: string;
  let database: TestDatabase;
  let app: RunningConcierge;
  let ws: string;
  const api = () => apiClient(app.url);

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-boundaries-'));
    database = await createTestDatabase(kind);
    app = await startTestApp({ dataDir, database, taskQueue: uniqueId('boundaries') });
    ws = app.url.replace('http', 'ws');
  });

  afterAll(async () => {
    await app?.stop();
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function register(id = uniqueId('CP')) {
    expect((await api().post('/api/chargers', { id, password: PASSWORD })).status).toBe(201);
    return id;
  }


  describe('charger ids in the URL', () => {
    it('refuses an id no charger can have (%00 and other characters outside the id rule) with 401, and serves the next charger', async () => {
      const known = await register();
      // Each with the password of a charger that exists, and with the id itself as the Basic-auth user.
      const ids = [`${known}%00`, '%00', `CP%00x`, 'CP%20one', 'caf%C3%A9', 'a%2Fb', 'x'.repeat(49), '%ED%A0%80', '%E0%A4%A'];
      for (const urlId of ids) {
        let user: string;
        try {
          user = decodeURIComponent(urlId);
        } catch {
          user = urlId;
        }
        const status = await new Promise<number>((resolve) => {
          const socket = new WebSocket(`${ws}/ocpp/${urlId}`, ['ocpp1.6'], { headers: { authorization: `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}` } });
          socket.once('open', () => resolve(101));
          socket.once('unexpected-response', (_request, response) => {
            resolve(response.statusCode ?? 0);
            socket.terminate();
          });
          socket.once('error', () => resolve(0));
        });
        expect({ urlId, status }).toEqual({ urlId, status: 401 });
      }
      const charger = await RawCharger.connect(ws, known, PASSWORD);
      expect((await charger.call('Heartbeat', {}))[0]).toBe(3);
      await charger.close();
      await expect(RawCharger.connect(ws, uniqueId('unknown'), PASSWORD)).rejects.toEqual(new HandshakeRefused(401));
    });
  });
});
