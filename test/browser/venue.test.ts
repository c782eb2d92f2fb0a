import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import greenmart from '../../contracts/agreements/greenmart-retail.js';
import { RawCharger } from '../../simulator/raw-charger.js';
import { CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { launchChromium, seriousAxeViolations, signInAs } from '../support/browser.js';

/**
 * The venue portal in Chromium: a store sees its own chargers with their status and this month's
 * uptime, its incidents read only, and its statements (view, PDF, CSV); another venue sees none of
 * it, in the page or by the address.
 */
describe('the venue portal', () => {
  const shop = uniqueId('GM');
  const hotel = uniqueId('AL');
  const greenmartId = uniqueId('greenmart').toLowerCase();
  const [shopSite] = greenmart.sites;
  const [hotelSite] = alpina.sites;
  const concierge = useTestApp({
    name: 'console-venue',
    agreements: {
      greenmart: { ...greenmart, id: greenmartId, sites: [{ ...shopSite!, chargers: [{ id: shop, model: 'Kempower Satellite', connectors: 2 }] }] },
      alpina: { ...alpina, sites: [{ ...hotelSite!, chargers: [{ id: hotel, model: 'Alfen Eve Single S-line', connectors: 1 }] }] },
    },
    chargers: [shop, hotel],
  });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  async function signIn(site: string, name: string) {
    const { token } = (await concierge.admin.post('/api/tokens', { role: 'venue', name, scope: { sites: [site] } })).body as { token: string };
    const signed = await signInAs(browser, concierge.url, token, { width: 390, height: 844 });
    expect(new URL(signed.page.url()).pathname).toBe('/console/venue');
    return signed;
  }

  it('shows the store its chargers, their status and uptime, its incident read only, and its statement', async () => {
    const charger = await RawCharger.connect(concierge.ws, shop, CHARGER_PASSWORD);
    await charger.call('BootNotification', { chargePointVendor: 'Kempower', chargePointModel: 'Satellite' });
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await charger.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted' });
    await eventually(async () => (await concierge.admin.get(`/api/incidents?chargerId=${shop}`)).body.incidents?.[0], 15_000, 'the incident');
    // October is settled (no sessions: a statement of no money) and sent, as GreenMart asks no approval.
    expect((await concierge.admin.post('/api/settlements', { agreementId: greenmartId, month: '2026-10' })).status).toBe(202);
    const sent = await eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${greenmartId}/2026-10`);
      return body.status === 'sent' ? body : null;
    }, 30_000, 'October sent');

    const store = await signIn('greenmart-leeds', 'Leeds store');
    const page = store.page;
    const rows = page.locator('#venue-status tbody tr');
    expect(await rows.count()).toBe(2);
    const [first, second] = [(await rows.nth(0).textContent())!.replace(/\s+/g, ' '), (await rows.nth(1).textContent())!.replace(/\s+/g, ' ')];
    expect(first).toContain('Available');
    expect(second).toContain('Faulted');
    expect(first).toContain('100.00 %');
    expect(await page.locator('main').textContent()).not.toContain(hotel);
    expect(await seriousAxeViolations(page)).toEqual([]);

    // The incident, read only: no step to take.
    await page.locator('a.task', { hasText: shop }).click();
    await page.waitForURL(/\/console\/incidents\//);
    expect(await page.getByRole('heading', { name: 'Steps you can take' }).count()).toBe(1);
    expect(await page.locator('form.step').count()).toBe(0);
    await page.goBack();

    // The statement: its HTML under a policy of its own, its PDF; the sessions CSV is not offered (GreenMart does not grant it).
    const statementRow = page.locator('tr', { hasText: sent.statementId });
    expect(await statementRow.getByRole('link', { name: 'Sessions CSV' }).count()).toBe(0);
    const view = await page.request.get(`${concierge.url}/console/statements/${sent.statementId}/html`);
    expect(view.status()).toBe(200);
    expect(view.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(view.headers()['content-security-policy']).not.toContain('script');
    expect(await view.text()).toContain(sent.statementId);
    const pdf = await page.request.get(`${concierge.url}/console/statements/${sent.statementId}/pdf`);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await page.request.get(`${concierge.url}/console/statements/${sent.statementId}/sessions.csv`)).status()).toBe(403);
    expect(store.problems).toEqual([]);
    await charger.close();

    // The hotel's front desk: its own charger, none of the store's, and the store's statement is not there.
    const desk = await signIn('alpina-kitzbuehel', 'Front desk');
    const text = await desk.page.locator('main').textContent();
    expect(text).toContain(hotel);
    expect(text).not.toContain(shop);
    expect(text).not.toContain(sent.statementId);
    expect((await desk.page.request.get(`${concierge.url}/console/statements/${sent.statementId}/pdf`)).status()).toBe(404);
    const incident = (await concierge.admin.get(`/api/incidents?chargerId=${shop}`)).body.incidents[0];
    expect((await desk.page.goto(`${concierge.url}/console/incidents/${incident.id}`))!.status()).toBe(404);
    expect((await desk.page.goto(`${concierge.url}/console/board`))!.status()).toBe(404);
    expect((await desk.page.goto(`${concierge.url}/console/tasks`))!.status()).toBe(404);
  });
});
