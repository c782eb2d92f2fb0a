import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_CANDIDATES, findChromium } from '../../testkit/chromium.js';


/** Launches Chromium, or fails naming what is missing: the console's tests never skip for want of a browser. */
export async function launchChromium(): Promise<Browser> {
  // Debian's Chromium (apt-get install chromium; .ci/run installs it), or CHROMIUM_PATH.
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(`Chromium is missing: the console's browser tests need Debian's Chromium (sudo apt-get install chromium, as .ci/run does) or CHROMIUM_PATH set to a Chromium binary; looked for ${CHROMIUM_CANDIDATES.join(', ')}`);
  }
  return chromium.launch({ executablePath });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's accessibility rules on the page as it is, violations of serious or critical impact.
 * axe runs through the DevTools protocol, not an inline script (the pages' policy forbids those).
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const run = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe.run;
    const { violations } = await run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * A fresh browser (its own cookies) at a viewport, signed in with an access token as a person
 * would: /console sends them to the sign-in form. Script errors and policy refusals the browser
 * logs are collected in `problems` (a page must have none).
 */
export async function signInAs(browser: Browser, baseUrl: string, token: string, viewport = { width: 1440, height: 900 }): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
  page.on('pageerror', (error) => void problems.push(error.message));
  await page.goto(`${baseUrl}/console`);
  if (new URL(page.url()).pathname !== '/console/sign-in') throw new Error(`/console without a session went to ${page.url()}, not the sign-in form`);
  await page.getByLabel('Your access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/console/sign-in');
  return { context, page, problems };
}
