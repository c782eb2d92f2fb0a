import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ADMIN_TOKEN, eventually, useTestApp } from '../support/app.js';
import { launchChromium, seriousAxeViolations, signInAs } from '../support/browser.js';
import { startSmtpServer } from '../support/mail.js';

/**
 * People and access in Chromium: an account manager gives a technician access with an e-mail
 * address, sends a one-time sign-in link that arrives over real SMTP, the technician signs in with
 * it once (a second use is refused), a scoped dispatcher sees only people within its scope and may
 * send links but not revoke, and revoking access ends the person's session.
 */
describe('people, access and sign-in links', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => smtp?.close());
  const concierge = useTestApp({ name: 'console-people', env: () => ({ SMTP_URL: smtp.url }) });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  const signIn = async (token: string) => (await signInAs(browser, concierge.url, token)).page;

  it('gives a technician access, mails a one-time link that signs them in once; revoking ends their session', async () => {
    const manager = await signIn(ADMIN_TOKEN);
    await manager.getByRole('link', { name: 'People' }).click();
    await manager.waitForURL(/\/console\/people/);
    expect(await seriousAxeViolations(manager)).toEqual([]);
    const give = manager.locator('form', { hasText: 'Give someone access' });
    await give.getByLabel('Name').fill('Tina Tech');
    await give.getByLabel('Role').selectOption('technician');
    await give.getByLabel('E-mail').fill('tina@voltwerk.example');
    await give.getByLabel(/Hotel Alpina/).first().check();
    await give.getByLabel(/GreenMart/).first().check();
    await give.getByRole('button', { name: 'Give access' }).click();
    await manager.waitForLoadState('load');
    expect(await manager.getByRole('status').textContent()).toContain('Tina Tech (technician) has access');
    const token = (await manager.locator('code.secret').textContent())!;
    expect(token).toMatch(/^cgt_/);
    // Shown once: the page after it does not show it again.
    await manager.goto(`${concierge.url}/console/people`);
    expect(await manager.locator('main').textContent()).not.toContain(token);

    const row = manager.locator('tr', { hasText: 'Tina Tech' });
    // Both agreements ticked: both kept (a form's repeated field is a list).
    expect(await row.textContent()).toMatch(/greenmart-retail, hotel-alpina|hotel-alpina, greenmart-retail/);
    await row.getByRole('button', { name: 'Send a sign-in link' }).click();
    await manager.waitForLoadState('load');
    expect(await manager.getByRole('status').textContent()).toContain('Sent Tina Tech a sign-in link at tina@voltwerk.example');
    const mail = await eventually(async () => smtp.received.find((m) => m.rcptTo.includes('tina@voltwerk.example')), 10_000, 'the sign-in link by mail');
    const link = /(http:\/\/[^\s"<>]+\/console\/sign-in\/link\/[A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, ''))![1]!;

    const tina = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await tina.goto(link);
    expect(await tina.locator('main').textContent()).toContain('Tina Tech');
    expect(await seriousAxeViolations(tina)).toEqual([]);
    await tina.getByRole('button', { name: 'Sign in' }).click();
    await tina.waitForURL(/\/console\/tasks/);
    // Once only: the link does not open another session.
    const again = await (await browser.newContext()).newPage();
    expect((await again.goto(link))!.status()).toBe(410);
    expect(await seriousAxeViolations(again)).toEqual([]);

    // Revoked: Tina's session ends with her access.
    await manager.locator('tr', { hasText: 'Tina Tech' }).getByRole('button', { name: 'Revoke access' }).click();
    await manager.waitForURL(/\/console\/people$/);
    expect(await manager.locator('main').textContent()).not.toContain('Tina Tech');
    await tina.goto(`${concierge.url}/console/tasks`);
    expect(new URL(tina.url()).pathname).toBe('/console/sign-in');
  });

  it('shows a scoped dispatcher only the people within its scope: links yes, access no', async () => {
    const issue = async (body: object) => (await concierge.admin.post('/api/tokens', body)).body as { id: string; token: string };
    await issue({ role: 'technician', name: 'Gary GreenMart', email: 'gary@sparkfit.example', scope: { agreements: ['greenmart-retail'] } });
    await issue({ role: 'technician', name: 'Alois Alpina', email: 'alois@voltwerk.example', scope: { agreements: ['hotel-alpina'] } });
    const dispatcher = await issue({ role: 'dispatcher', name: 'Debbie', scope: { agreements: ['greenmart-retail'] } });
    const page = await signIn(dispatcher.token);
    await page.goto(`${concierge.url}/console/people`);
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('Gary GreenMart');
    expect(text).not.toContain('Alois Alpina');
    expect(await page.locator('form', { hasText: 'Give someone access' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Revoke access' }).count()).toBe(0);
    await page.locator('tr', { hasText: 'Gary GreenMart' }).getByRole('button', { name: 'Send a sign-in link' }).click();
    await page.waitForLoadState('load');
    await eventually(async () => smtp.received.find((m) => m.rcptTo.includes('gary@sparkfit.example')), 10_000, 'Gary’s link');
  });
});
