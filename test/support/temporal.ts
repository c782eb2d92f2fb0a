import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createLogger } from '../../platform/log.js';
import { startTemporalDevServer, type DevServer } from '../../runtime/temporal-dev-server.js';
import { freePort } from '../../testkit/ports.js';

/** A Temporal dev server of the suite's own, for tests that reconfigure, kill or restart it. */
export interface OwnTemporal {
  readonly address: string;
  /** Kills the server with -9, as a crash would. */
  kill(): void;
  /** Starts it again on the same port and SQLite file. */
  start(): Promise<void>;
}

/**
 * Starts a dev server before the tests of the `describe` (call it before `useTestApp`, so the app
 * starts after it and stops before it) and stops it after them.
 */
export function useOwnTemporal(dynamicConfig: Record<string, string | number | boolean> = {}): OwnTemporal {
  let dir: string;
  let options: Parameters<typeof startTemporalDevServer>[0];
  let server: DevServer | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'concierge-temporal-'));
    options = { port: await freePort(), uiPort: await freePort(), dbFile: path.join(dir, 'temporal.sqlite'), namespace: 'default', log: createLogger('silent'), dynamicConfig };
    server = await startTemporalDevServer(options);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get address() {
      if (!server) throw new Error('the suite’s Temporal server is not running');
      return server.address;
    },
    kill: () => process.kill(Number(readFileSync(`${options.dbFile}.pid`, 'utf8')), 'SIGKILL'),
    async start() {
      server = await startTemporalDevServer(options);
    },
  };
}
