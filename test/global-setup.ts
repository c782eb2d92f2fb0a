import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflows } from '../runtime/workflow-bundle.js';
import { createLogger } from '../platform/log.js';
import { startTemporalDevServer } from '../runtime/temporal-dev-server.js';
import { captureHistories } from './support/histories.js';
import { freePort } from '../testkit/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/**
 * One Temporal dev server (from the CLI the setup step installed) and one workflow bundle for the
 * whole run; every test file connects to the first and loads the second.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('warn');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'concierge-test-'));
  const port = await freePort();
  const [server, bundle] = await Promise.all([
    startTemporalDevServer({ port, uiPort: await freePort(), namespace: 'default', log }),
    bundleWorkflows({ trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} }),
  ]);
  const workflowBundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    await captureHistories(server.address, 'suite');
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
