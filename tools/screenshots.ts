/**
 * `npm run screenshots`: every console page, as each role sees it, at 390×844 (a phone) and
 * 1440×900 (a desk), written to docs/screenshots/ for the README. It starts Concierge on embedded
 * defaults in a scratch DATA_DIR (its own Temporal dev server, PGlite), fills it through the API
 * and over OCPP the way a day would (faults, an assignment, a settled month), and drives Debian's
 * Chromium (CHROMIUM_PATH, or /usr/lib/chromium/chromium) through playwright-core.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../runtime/config.js';
import { startConcierge } from '../runtime/concierge.js';
import { createLogger } from '../platform/log.js';
import { RawCharger } from '../simulator/raw-charger.js';
import { findChromium } from '../testkit/chromium.js';
import { eventually } from '../testkit/eventually.js';

const OUT = path.resolve(import.meta.dirname, '../docs/screenshots');
const VIEWPORTS = { phone: { width: 390, height: 844 }, desk: { width: 1440, height: 900 } } as const;
const PASSWORD = 'screenshot-charger-secret';

const chromiumPath = findChromium();
if (!chromiumPath) {
  console.error('Chromium is missing: install Debian’s (sudo apt-get install chromium) or set CHROMIUM_PATH');
  process.exit(1);
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-screenshots-'));
const adminToken = `cgt_${randomBytes(18).toString('base64url')}`;
// Embedded defaults whatever this shell has set: PGlite, Concierge's own Temporal dev server, mail to files.
const { DATABASE_URL: _database, TEMPORAL_ADDRESS: _temporal, SMTP_URL: _smtp, PUBLIC_URL: _url, ...env } = process.env;
const app = await startConcierge(loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, CONCIERGE_ADMIN_TOKEN: adminToken }), { log: createLogger('error') });
const base = `http://127.0.0.1:${app.port}`;
const api = async (method: string, route: string, body?: unknown) => {
  const response = await fetch(`${base}${route}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
};

try {
  // The shipped agreements' chargers, connected; two faults; one assigned to a technician.
  const chargers = ['ALPINA-01', 'ALPINA-02', 'GM-LDS-01', 'GM-LDS-02', 'GM-LDS-03'];
  for (const id of chargers) await api('POST', '/api/chargers', { id, password: PASSWORD });
  const sockets: RawCharger[] = [];
  for (const id of chargers) {
    const socket = await RawCharger.connect(`ws://127.0.0.1:${app.port}`, id, PASSWORD);
    await socket.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve Single S-line' });
    await socket.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    sockets.push(socket);
  }
  await sockets[0]!.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
  await sockets[3]!.call('StatusNotification', { connectorId: 1, errorCode: 'OverVoltage', status: 'Faulted' });
  const people = {
    dispatcher: (await api('POST', '/api/tokens', { role: 'dispatcher', name: 'Dana Dispatch', email: 'dana@chargeops.example' })) as { token: string },
    technician: (await api('POST', '/api/tokens', { role: 'technician', name: 'Toni Technik', email: 'toni@voltwerk.example', scope: { agreements: ['hotel-alpina'] } })) as { id: string; token: string },
    venue: (await api('POST', '/api/tokens', { role: 'venue', name: 'Hotel Alpina front desk', scope: { sites: ['alpina-kitzbuehel'] } })) as { token: string },
  };
  const incident = await eventually(async () => ((await api('GET', '/api/incidents?chargerId=ALPINA-01')).incidents as { id: string }[])[0], 20_000, 'the Alpina incident');
  await api('POST', `/api/incidents/${incident.id}/acknowledge`, { note: 'Looking at it' });
  await api('POST', `/api/incidents/${incident.id}/assign`, { technician: { id: people.technician.id, name: 'Toni Technik' }, note: 'Bring a spare RCD' });
  await eventually(async () => (((await api('GET', '/api/incidents?chargerId=GM-LDS-02')).incidents as unknown[]).length > 0) || null, 20_000, 'the GreenMart incident');
  // Two months settled: September approved and sent (the hotel sees it), October awaiting approval.
  for (const month of ['2026-09', '2026-10']) {
    await api('POST', '/api/settlements', { agreementId: 'hotel-alpina', month });
    const waiting = await eventually(async () => {
      const settlement = await api('GET', `/api/settlements/hotel-alpina/${month}`);
      return settlement.status === 'awaiting-approval' ? settlement : null;
    }, 60_000, `${month} awaiting approval`);
    if (month === '2026-09') await api('POST', `/api/statements/${waiting.statementId as string}/approve`);
  }
  const task = await eventually(() => taskOf(incident.id), 20_000, 'the task');

  const pages: Array<{ name: string; token: string | null; path: string }> = [
    { name: 'sign-in', token: null, path: '/console/sign-in' },
    { name: 'board', token: people.dispatcher.token, path: '/console/board' },
    { name: 'incident', token: people.dispatcher.token, path: `/console/incidents/${incident.id}` },
    { name: 'charger', token: people.dispatcher.token, path: '/console/chargers/ALPINA-01' },
    { name: 'tasks', token: people.technician.token, path: '/console/tasks' },
    { name: 'task', token: people.technician.token, path: `/console/tasks/${task}` },
    { name: 'venue', token: people.venue.token, path: '/console/venue' },
    { name: 'agreements', token: adminToken, path: '/console/agreements' },
    { name: 'agreement', token: adminToken, path: '/console/agreements/hotel-alpina' },
    { name: 'statements', token: adminToken, path: '/console/statements' },
    { name: 'people', token: adminToken, path: '/console/people' },
  ];
  mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: chromiumPath });
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    for (const shot of pages) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      if (shot.token) {
        await page.goto(`${base}/console/sign-in`);
        await page.getByLabel('Your access token').fill(shot.token);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL((url) => url.pathname !== '/console/sign-in');
      }
      await page.goto(`${base}${shot.path}`);
      await page.screenshot({ path: path.join(OUT, `${shot.name}-${size}.png`) });
      await context.close();
      console.log(`docs/screenshots/${shot.name}-${size}.png`);
    }
  }
  await browser.close();
  for (const socket of sockets) await socket.close();
} finally {
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

async function taskOf(incidentId: string): Promise<string | null> {
  const response = await fetch(`${base}/api/incidents/${incidentId}`, { headers: { authorization: `Bearer ${adminToken}` } });
  const body = (await response.json()) as { tasks: { id: string }[] };
  return body.tasks[0]?.id ?? null;
}
