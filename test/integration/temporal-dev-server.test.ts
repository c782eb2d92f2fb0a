import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/log.js';
import { findTemporalCli, startTemporalDevServer } from '../../runtime/temporal-dev-server.js';
import { freePort } from '../../testkit/ports.js';

/** Starting the real Temporal CLI dev server: what happens when a port it needs is taken. */
describe('the Temporal dev server start', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'concierge-devserver-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses at once, quoting the server, when its own port is taken', { timeout: 60_000 }, async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
    try {
      const dbFile = path.join(dir, 'taken.sqlite');
      const start = startTemporalDevServer({ port, uiPort: await freePort(), dbFile, namespace: 'default', log: createLogger('silent') });
      await expect(start).rejects.toThrow(new RegExp(`exited with code 1 while starting[\\s\\S]*${port}: bind: address already in use`));
      // One attempt only: the port is the caller's, another try cannot help.
      expect(readFileSync(`${dbFile}.log`, 'utf8').match(/can't set frontend port/g)).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });

  it('tries again when the server exits while starting for another reason, and then runs', { timeout: 90_000 }, async () => {
    // The first run fails the way the server does when one of its internal ports is taken before it
    // binds it; every later run is the real CLI.
    const marker = path.join(dir, 'failed-once');
    const cli = path.join(dir, 'temporal-failing-once');
    writeFileSync(cli, `#!/bin/sh
if [ ! -e '${marker}' ]; then
  touch '${marker}'
  echo 'panic: listen tcp 127.0.0.1:40001: bind: address already in use' >&2
  exit 2
fi
exec '${findTemporalCli()}' "$@"
`);
    chmodSync(cli, 0o755);
    const dbFile = path.join(dir, 'retry.sqlite');
    const server = await startTemporalDevServer({ cli, port: await freePort(), uiPort: await freePort(), dbFile, namespace: 'default', log: createLogger('silent') });
    try {
      expect(readFileSync(`${dbFile}.log`, 'utf8')).toContain('panic: listen tcp 127.0.0.1:40001');
      const response = await fetch(server.uiUrl).catch(() => null);
      expect(response?.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
