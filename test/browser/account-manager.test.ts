import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import alpina from '../../contracts/agreements/hotel-alpina.js';
import { ADMIN_TOKEN, eventually, uniqueId, useTestApp } from '../support/app.js';
import { launchChromium, seriousAxeViolations, signInAs } from '../support/browser.js';
import { startSmtpServer } from '../support/mail.js';

/**
 * The account manager's pages in Chromium: an agreement's readable summary and what its second
 * version changed; a statement awaiting approval, approved here and received over SMTP; none of it
 * for a dispatcher.
 */
describe('the account manager’s pages', () => {
  const agreementId = uniqueId('alpina').toLowerCase();
  const first = { ...alpina, id: agreementId };
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => smtp?.close());
  const concierge = useTestApp({ name: 'console-am', env: () => ({ SMTP_URL: smtp.url }), agreements: { alpina: first } });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  const signIn = async (token: string) => (await signInAs(browser, concierge.url, token)).page;

  it('shows an agreement’s summary and what its new version changed', async () => {
    // The account manager shortens the P2 fix time: version 2 at the next start.
    concierge.writeAgreement('alpina', { ...first, sla: { ...first.sla, targets: { ...first.sla.targets, P2: { ...first.sla.targets.P2, fixWithin: '12h' } } } });
    await concierge.restart();
    const page = await signIn(ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Agreements' }).click();
    await page.waitForURL(/\/console\/agreements$/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.locator('a.task', { hasText: 'Hotel Alpina' }).click();
    await page.waitForURL(new RegExp(`/console/agreements/${agreementId}`));
    expect(await page.locator('pre.summary').textContent()).toContain('SLA targets');
    const version2 = page.locator('ol.timeline > li', { hasText: 'Version 2' });
    expect((await version2.textContent())!.replace(/\s+/g, ' ')).toContain('sla.targets.P2.fixWithin: "24h" → "12h"');
    expect(await page.locator('ol.timeline > li', { hasText: 'Version 1' }).textContent()).toContain('The first version');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('lists a statement awaiting approval and approves it: sent over SMTP', async () => {
    expect((await concierge.admin.post('/api/settlements', { agreementId, month: '2026-10' })).status).toBe(202);
    const waiting = await eventually(async () => {
      const { body } = await concierge.admin.get(`/api/settlements/${agreementId}/2026-10`);
      return body.status === 'awaiting-approval' ? body : null;
    }, 30_000, 'October awaiting approval');
    const page = await signIn(ADMIN_TOKEN);
    await page.goto(`${concierge.url}/console/statements`);
    const item = page.locator('li.task', { hasText: waiting.statementId });
    expect(await item.count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await item.getByRole('button', { name: 'Approve and send' }).click();
    await page.waitForLoadState('load');
    expect(await page.getByRole('status').textContent()).toContain(`Approved ${waiting.statementId}`);
    await eventually(async () => smtp.received.find((m) => m.raw.includes(`Statement ${waiting.statementId}`)), 15_000, 'the statement by mail');
    await page.goto(`${concierge.url}/console/statements`);
    expect(await page.locator('li.task', { hasText: waiting.statementId }).count()).toBe(0);
  });

  it('has none of this for a dispatcher', async () => {
    const { token } = (await concierge.admin.post('/api/tokens', { role: 'dispatcher', name: 'Dana' })).body as { token: string };
    const page = await signIn(token);
    for (const path of ['/console/agreements', `/console/agreements/${agreementId}`, '/console/statements']) expect((await page.goto(`${concierge.url}${path}`))!.status()).toBe(404);
    expect(await page.getByRole('link', { name: 'Agreements' }).count()).toBe(0);
  });
});
