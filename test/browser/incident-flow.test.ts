import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import { RawCharger } from '../../simulator/raw-charger.js';
import { CHARGER_PASSWORD, eventually, uniqueId, useTestApp } from '../support/app.js';
import { launchChromium, seriousAxeViolations, signInAs } from '../support/browser.js';

/** A 1×1 PNG, as a phone's camera would send a (bigger) one. */
const PHOTO = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/**
 * The main flow of an incident, through the console in a real Chromium: a charger faults over
 * OCPP → it appears on an open board → a dispatcher acknowledges and assigns it on its page → the
 * technician, on a phone-sized screen, accepts, arrives, ticks the checklist, adds a photo from
 * the camera input and reports it fixed → the board shows it verifying.
 */
describe('an incident from fault to fix, in the browser', () => {
  const charger = uniqueId('AL');
  /** A charger of its own for the claim: a new fault on the first, soon after its incident closed, reopens that one (assigned already). */
  const spare = uniqueId('AL');
  const [site] = alpina.sites;
  const concierge = useTestApp({
    name: 'console-flow',
    agreements: { alpina: { ...alpina, sites: [{ ...site!, chargers: [charger, spare].map((id) => ({ id, model: 'Alfen Eve Single S-line', connectors: 1 })) }] } },
    chargers: [charger, spare],
  });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  const signIn = (token: string, viewport: { width: number; height: number }) => signInAs(browser, concierge.url, token, viewport);
  /** Clicks a form's button and waits for the page it leads to (htmx follows the server's HX-Redirect with a full load). */
  async function submit(page: Page, button: ReturnType<Page['getByRole']>) {
    const loaded = page.waitForEvent('load');
    await button.click();
    await loaded;
  }
  const token = async (role: string, name: string, scope?: object) => (await concierge.admin.post('/api/tokens', { role, name, ...(scope ? { scope } : {}) })).body as { id: string; token: string };

  it('runs from the board to verification: acknowledge, assign, accept, on site, checklist, photo, fixed', async () => {
    const tech = await token('technician', 'Toni Technik', { agreements: ['hotel-alpina'] });
    const desk = await signIn((await token('dispatcher', 'Dana Desk')).token, { width: 1440, height: 900 });
    const board = desk.page;

    const ocpp = await RawCharger.connect(concierge.ws, charger, CHARGER_PASSWORD);
    await ocpp.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve' });
    await ocpp.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const row = board.locator('#board-rows tr[data-incident]', { hasText: charger });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('opened');

    // The dispatcher opens the incident, acknowledges it, and assigns it to the agreement's technician.
    await row.getByRole('link', { name: charger }).click();
    await board.waitForURL(/\/console\/incidents\//);
    const incidentUrl = board.url();
    expect(await seriousAxeViolations(board)).toEqual([]);
    await submit(board, board.locator('form.step', { hasText: 'Acknowledge' }).getByRole('button', { name: 'Acknowledge' }));
    expect(await board.locator('#incident-live').textContent()).toContain('acknowledged');
    const assign = board.locator('form.step', { hasText: 'Assign' });
    await assign.getByLabel('Technician').selectOption({ label: 'Toni Technik' });
    await assign.getByLabel('Note').fill('Bring a spare RCD');
    await submit(board, assign.getByRole('button', { name: 'Assign' }));
    expect(await board.locator('dl.facts').first().textContent()).toContain('Toni Technik');
    expect(await board.locator('#incident-live').textContent()).toContain('Bring a spare RCD');

    // The technician, on a phone: the task is theirs; accept, on site, the checklist, a photo, fixed.
    const phone = await signIn(tech.token, { width: 390, height: 844 });
    expect(new URL(phone.page.url()).pathname).toBe('/console/tasks');
    expect(await seriousAxeViolations(phone.page)).toEqual([]);
    await phone.page.locator('a.task', { hasText: charger }).click();
    await phone.page.waitForURL(/\/console\/tasks\//);
    expect(await phone.page.getByRole('link', { name: 'Open in maps' }).getAttribute('href')).toContain('openstreetmap.org');
    expect(await seriousAxeViolations(phone.page)).toEqual([]);
    await submit(phone.page, phone.page.getByRole('button', { name: 'Accept' }));
    await submit(phone.page, phone.page.getByRole('button', { name: 'On site' }));
    const fix = phone.page.locator('form.step', { hasText: 'Checklist' });
    await fix.waitFor();
    for (const box of await fix.getByRole('checkbox').all()) await box.check();
    await fix.getByLabel('Parts used').fill('RCD type B 40 A');
    expect(await fix.getByLabel('Photos').getAttribute('capture')).toBe('environment');
    await fix.getByLabel('Photos').setInputFiles({ name: 'rcd.png', mimeType: 'image/png', buffer: PHOTO });
    await submit(phone.page, fix.getByRole('button', { name: 'Fixed' }));

    // Fixed: verification waits for the connector to report healthy; the board says so.
    await board.goto(`${concierge.url}/console/board`);
    await eventually(async () => (await board.locator('#board-rows tr[data-incident]', { hasText: charger }).textContent())?.includes('verifying') || null, 15_000, 'verifying on the board');
    const incident = (await concierge.admin.get(`/api/incidents?chargerId=${charger}`)).body.incidents[0];
    expect(incident.status).toBe('verifying');
    const fixed = incident.steps.find((s: { step: string }) => s.step === 'fixed');
    expect(fixed.data).toMatchObject({ partsUsed: ['RCD type B 40 A'], photos: [expect.objectContaining({ name: 'rcd.png', contentType: 'image/png' })] });
    expect(Object.values(fixed.data.checklist as Record<string, boolean>).every(Boolean)).toBe(true);

    // The dispatcher sees the photo on the incident page.
    await board.goto(incidentUrl);
    const photo = board.getByRole('img', { name: /rcd\.png/ });
    await photo.waitFor();
    expect(await photo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
    expect([...desk.problems, ...phone.problems]).toEqual([]);
    await ocpp.close();
  });

  it('keeps what was typed when the connection drops: the form says it was not sent, and sends once back online', async () => {
    const desk = await signIn((await token('dispatcher', 'Dino Desk')).token, { width: 390, height: 844 });
    const incident = (await concierge.admin.get(`/api/incidents?chargerId=${charger}`)).body.incidents[0];
    await desk.page.goto(`${concierge.url}/console/incidents/${incident.id}`);
    const resolve = desk.page.locator('form.step', { hasText: 'Resolve now' });
    await resolve.getByLabel('Note').fill('Verified on the phone with the hotel: charging again');
    await desk.page.context().setOffline(true);
    await resolve.getByRole('button', { name: 'Resolve now' }).click();
    await resolve.getByRole('alert').waitFor();
    expect(await resolve.getByRole('alert').textContent()).toContain('Not sent: there is no connection');
    expect(await resolve.getByLabel('Note').inputValue()).toBe('Verified on the phone with the hotel: charging again');
    await desk.page.context().setOffline(false);
    await submit(desk.page, resolve.getByRole('button', { name: 'Resolve now' }));
    expect((await concierge.admin.get(`/api/incidents/${incident.id}`)).body).toMatchObject({ status: 'resolved' });
    // The browser and htmx log the requests that could not be sent while offline; nothing else went wrong.
    expect(desk.problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|^htmx:(sendError|afterRequest)/.test(p))).toEqual([]);
  });

  it('lets a technician claim an unassigned task from the phone: it becomes theirs', async () => {
    const tech = await token('technician', 'Uli Unassigned', { agreements: ['hotel-alpina'] });
    const ocpp = await RawCharger.connect(concierge.ws, spare, CHARGER_PASSWORD);
    await ocpp.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve' });
    await ocpp.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    const phone = await signIn(tech.token, { width: 390, height: 844 });
    const unassigned = phone.page.locator('a.task', { hasText: spare });
    await eventually(async () => {
      await phone.page.reload();
      return (await unassigned.count()) > 0 || null;
    }, 15_000, 'the unassigned task');
    await unassigned.first().click();
    await phone.page.waitForURL(/\/console\/tasks\//);
    await submit(phone.page, phone.page.getByRole('button', { name: 'Claim this task' }));
    expect(await phone.page.locator('dl.facts').textContent()).toContain('claimed · Uli Unassigned');
    // Claimed is accepted: the next step is on site.
    expect(await phone.page.getByRole('button', { name: 'On site' }).count()).toBe(1);
    expect(phone.problems).toEqual([]);
    await ocpp.close();
  });
});
