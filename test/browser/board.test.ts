import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import greenmart from '../../contracts/agreements/greenmart-retail.js';
import { RawCharger } from '../../simulator/raw-charger.js';
import { CHARGER_PASSWORD, uniqueId, useTestApp } from '../support/app.js';
import { launchChromium, seriousAxeViolations, signInAs } from '../support/browser.js';

/**
 * The dispatcher board in a real Chromium: sign in with a token once (a cookie session), the open
 * incidents with their clocks, a fault arriving over OCPP appearing without a reload, the pages'
 * security headers, accessibility, and the same scope rules as the API.
 */
describe('the dispatcher board', () => {
  const hotelCharger = uniqueId('AL');
  const shopCharger = uniqueId('GM');
  const [alpinaSite] = alpina.sites;
  const [shopSite] = greenmart.sites;
  const concierge = useTestApp({
    name: 'console-board',
    agreements: {
      alpina: { ...alpina, sites: [{ ...alpinaSite!, chargers: [{ id: hotelCharger, model: 'Alfen Eve Single S-line', connectors: 1 }] }] },
      greenmart: { ...greenmart, sites: [{ ...shopSite!, chargers: [{ id: shopCharger, model: 'Wallbox Commander 2', connectors: 1 }] }] },
    },
    chargers: [hotelCharger, shopCharger],
  });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  const tokenFor = async (role: string, name: string, scope?: object) => {
    const issued = await concierge.admin.post('/api/tokens', { role, name, ...(scope ? { scope } : {}) });
    expect(issued.status).toBe(201);
    return issued.body.token as string;
  };

  const signedIn = (token: string, viewport?: { width: number; height: number }) => signInAs(browser, concierge.url, token, viewport);

  async function fault(chargerId: string) {
    const charger = await RawCharger.connect(concierge.ws, chargerId, CHARGER_PASSWORD);
    await charger.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve' });
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    return charger;
  }

  it('signs a dispatcher in with a token once: an HttpOnly, SameSite session cookie, not the token, and pages no one may cache or frame', async () => {
    const token = await tokenFor('dispatcher', 'Dana Dispatch');
    const { context, page } = await signedIn(token);
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'concierge_session', httpOnly: true, sameSite: 'Lax' });
    expect(cookies[0]!.value).not.toContain(token);
    expect(page.url()).not.toContain(token);
    const response = await page.goto(`${concierge.url}/console/board`);
    const headers = response!.headers();
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['x-content-type-options']).toBe('nosniff');
    const policy = headers['content-security-policy']!;
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    await expect(page.getByRole('heading', { name: 'Open incidents' }).count()).resolves.toBe(1);
    await context.close();
  });

  it('refuses a wrong token, and a form posted without the page’s CSRF token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${concierge.url}/console/sign-in`);
    await page.getByLabel('Your access token').fill('cgt_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('That token is not valid');
    expect(await context.cookies()).toEqual([]);
    await context.close();

    const signed = await signedIn(await tokenFor('dispatcher', 'Dora'));
    const forged = await signed.page.evaluate(async () => (await fetch('/console/sign-out', { method: 'POST', body: new URLSearchParams({ _csrf: 'guessed' }) })).status);
    expect(forged).toBe(403);
    // Still signed in: the forged sign-out did nothing.
    await signed.page.goto(`${concierge.url}/console/board`);
    expect(new URL(signed.page.url()).pathname).toBe('/console/board');
    await signed.page.getByRole('button', { name: 'Sign out' }).click();
    await signed.page.waitForURL(/\/console\/sign-in/);
    await signed.page.goto(`${concierge.url}/console/board`);
    expect(new URL(signed.page.url()).pathname).toBe('/console/sign-in');
    await signed.context.close();
  });

  it('shows a charger’s new fault on an open board without a reload, with its clocks and next escalation', async () => {
    const { context, page, problems } = await signedIn(await tokenFor('dispatcher', 'Dana'));
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const charger = await fault(hotelCharger);
    const row = page.locator('#board-rows tr[data-incident]', { hasText: hotelCharger });
    await row.waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const text = (await row.textContent())!.replace(/\s+/g, ' ');
    // GroundFailure is Alpina's P2 "electrical" class (respond within 2 h of service hours); level 1
    // escalates when it is unacknowledged for 30 minutes.
    expect(text).toContain('P2');
    expect(text).toContain('Hotel Alpina');
    expect(text).toMatch(/left/);
    expect(text).toContain('L1');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await charger.close();
    await context.close();
  });

  it('shows each viewer only what its scope holds: a GreenMart technician does not see Alpina’s incident, a venue has no board', async () => {
    const shop = await fault(shopCharger);
    const tech = await signedIn(await tokenFor('technician', 'Gus', { agreements: ['greenmart-retail'] }), { width: 390, height: 844 });
    // A technician starts on their tasks; the board is one tap away.
    expect(new URL(tech.page.url()).pathname).toBe('/console/tasks');
    await tech.page.getByRole('link', { name: 'Board' }).click();
    await tech.page.waitForURL(/\/console\/board/);
    const rows = tech.page.locator('#board-rows tr[data-incident]');
    await rows.first().waitFor({ timeout: 15_000 });
    const texts = await rows.allTextContents();
    expect(texts.some((t) => t.includes(shopCharger))).toBe(true);
    expect(texts.some((t) => t.includes(hotelCharger))).toBe(false);
    await tech.context.close();
    await shop.close();

    const desk = await signedIn(await tokenFor('venue', 'Front desk', { sites: ['alpina-kitzbuehel'] }));
    expect((await desk.page.goto(`${concierge.url}/console/board`))!.status()).toBe(404);
    await desk.context.close();
  });

  it('has no serious or critical accessibility violation on the sign-in page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${concierge.url}/console/sign-in`);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await context.close();
  });

  it('shows a charger’s page: connection, connector status, its reports, and a command with the charger’s answer', async () => {
    const charger = await RawCharger.connect(concierge.ws, hotelCharger, CHARGER_PASSWORD);
    await charger.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve' });
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    const sent = concierge.admin.post(`/api/chargers/${hotelCharger}/commands/Reset`, { type: 'Soft' });
    const call = await charger.nextFrame(15_000);
    expect(call[2]).toBe('Reset');
    charger.answer(call, { status: 'Accepted' });
    expect((await sent).status).toBe(200);

    const { context, page, problems } = await signedIn(await tokenFor('dispatcher', 'Dina'));
    await page.goto(`${concierge.url}/console/chargers/${hotelCharger}`);
    const text = (await page.locator('#charger-live').textContent())!.replace(/\s+/g, ' ');
    expect(text).toContain('connected since');
    expect(text).toContain('Available');
    expect(text).toMatch(/command Reset \{"type":"Soft"\}.*answer: .*Accepted/);
    expect(text).toContain('GroundFailure');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
    await charger.close();

    // Another tenant's venue finds no such charger.
    const venue = await signedIn(await tokenFor('venue', 'Leeds store', { sites: ['greenmart-leeds'] }));
    expect((await venue.page.goto(`${concierge.url}/console/chargers/${hotelCharger}`))!.status()).toBe(404);
    await venue.context.close();
  });

  it('pages a board of many incidents in the chosen order: the first hundred, and the rest a page away', async () => {
    // 120 more open incidents, as their projection stores them (copies of the shop's, each later than the last).
    const seed = (await concierge.db.selectFrom('incidents').selectAll().where('chargerId', '=', shopCharger).executeTakeFirstOrThrow());
    await concierge.db
      .insertInto('incidents')
      .values(Array.from({ length: 120 }, (_, i) => ({ ...seed, id: `paged-${i}`, workflowId: `incident:PAGED-${i}:1`, runId: `paged-${i}`, chargerId: `PAGED-${String(i).padStart(3, '0')}`, openedAt: new Date(Date.now() + (i + 1) * 1000), state: JSON.stringify(seed.state) })))
      .execute();
    const { context, page } = await signedIn(await tokenFor('dispatcher', 'Pia'));
    await page.goto(`${concierge.url}/console/board?sort=opened`);
    const rows = page.locator('#board-rows tr[data-incident]');
    expect(await rows.count()).toBe(100);
    expect(await rows.first().textContent()).toContain('PAGED-119');
    const total = await concierge.db.selectFrom('incidents').select((eb) => eb.fn.countAll<string>().as('n')).where('status', 'not in', ['resolved', 'cancelled']).executeTakeFirstOrThrow();
    expect(await page.locator('tr.pages').textContent()).toContain(`1–100 of ${total.n} open incidents`);
    await page.locator('tr.pages').getByRole('link', { name: 'Next' }).click();
    await page.waitForURL(/page=2/);
    expect(await page.locator('#board-rows tr[data-incident]').count()).toBe(Number(total.n) - 100);
    expect(await page.locator('#board-rows').textContent()).toContain('PAGED-000');
    await context.close();
    await concierge.db.deleteFrom('incidents').where('id', 'like', 'paged-%').execute();
  });

  it('ends the live streams when Concierge stops, so an open board does not hold up the stop', async () => {
    const { context } = await signedIn(await tokenFor('dispatcher', 'Del'));
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    await context.close();
    const stream = await fetch(`${concierge.url}/console/live`, { headers: { cookie, accept: 'text/event-stream' } });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    await concierge.restart();
    expect(await ended).toBe(true);
  });
});
