import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, useTestApp } from '../support/app.js';

const root = path.resolve(import.meta.dirname, '../..');
const SCHEMATHESIS = path.join(root, '.tools/schemathesis/bin/st');

/**
 * The OpenAPI document is the contract: schemathesis generates requests from it (examples,
 * boundary values, random and invalid data, and chains of calls that follow its links) with every
 * check on — no 5xx, every status and body as documented, invalid data refused, valid data not,
 * 405 with Allow for methods a path does not serve, /api refused without a token. Bounded: 20
 * examples an operation, a fixed seed.
 */
describe('the OpenAPI document', () => {

  const concierge = useTestApp({ name: 'contract' });

  it('is what the server does: schemathesis with every check finds no failure', async () => {
    if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: run \`npm run setup\` to install schemathesis`);
    const args = [
      '--config-file', path.join(root, 'test/contract/schemathesis.toml'),
      'run', `${concierge.url}/openapi.json`,
      '--header', `Authorization: Bearer ${ADMIN_TOKEN}`,
      '--checks', 'all',
      '--max-examples', '20',
      '--seed', '1',
      // One worker: with two, CPython 3.11's ast.parse (which hypothesis calls to describe a
      // strategy) failed now and then under threads ("AST constructor recursion depth mismatch").
      '--workers', '1',
      '--request-timeout', '30',
    ];
    const run = await promisify(execFile)(SCHEMATHESIS, args, { cwd: root, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 }).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    // On failure the whole report is the message: each failure with a curl line to reproduce it.
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/\d+ generated, \d+ passed/);
  }, 180_000);
});
