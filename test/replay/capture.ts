/**
 * `npm run capture-histories`: runs the suites that drive every scenario the replay test names
 * (SCENARIOS in ./scenarios.ts) with capturing on, then keeps a small set that covers them all
 * (for each scenario not yet covered, the shortest history showing it) in
 * test/replay/histories/<date>-<commit>/. A scenario today's code no longer takes (a withdrawn
 * patch) must be held by an earlier capture. Earlier captures stay: histories of workflows started by
 * older code must go on replaying. `npm run capture-histories -- <dir>` selects from a directory an
 * earlier capturing run wrote instead of running the suites again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HISTORIES_DIR, readCaptured, SCENARIOS, type CapturedHistory } from './scenarios.js';

/** The suites whose runs hold the scenarios (the time-skipping engine, end to end, site, connectivity, commands, continue-as-new, settlement). */
const DRIVERS = [
  'test/integration/incident-workflow.test.ts',
  'test/e2e/incident-engine.test.ts',
  'test/e2e/site-down.test.ts',
  'test/e2e/connectivity.test.ts',
  'test/e2e/charger-commands.test.ts',
  'test/e2e/continue-as-new.test.ts',
  'test/e2e/cdrs.test.ts',
  'test/integration/agreement-workflow.test.ts',
];

const given = process.argv[2];
const scratch = given ?? mkdtempSync(path.join(os.tmpdir(), 'concierge-capture-'));
try {
  if (!given) {
    const run = spawnSync('npx', ['vitest', 'run', ...DRIVERS], { stdio: 'inherit', env: { ...process.env, CAPTURE_HISTORIES_DIR: scratch } });
    if (run.status !== 0) throw new Error(`the driving suites failed (exit ${run.status}); nothing captured`);
  }
  const all = readCaptured(scratch);
  const length = (h: CapturedHistory) => h.history.events?.length ?? 0;
  const kept: CapturedHistory[] = [];
  // A path the current code no longer takes (a withdrawn patch) stays covered by the capture that holds it.
  const earlier = readCaptured();
  for (const [scenario, shows] of Object.entries(SCENARIOS)) {
    if (kept.some(shows)) continue;
    const [shortest] = all.filter(shows).sort((a, b) => length(a) - length(b));
    if (shortest) kept.push(shortest);
    else if (earlier.some(shows)) console.log(`"${scenario}": not taken by today's code; held by an earlier capture`);
    else throw new Error(`no run of ${DRIVERS.join(', ')} shows "${scenario}", and no earlier capture holds it`);
  }
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const target = path.join(HISTORIES_DIR, `${new Date().toISOString().slice(0, 10)}-${commit}`);
  mkdirSync(target, { recursive: true });
  for (const h of kept) copyFileSync(path.join(scratch, h.file), path.join(target, path.basename(h.file)));
  console.log(`kept ${kept.length} of ${all.length} histories in ${path.relative(process.cwd(), target)}:`);
  for (const h of kept) console.log(`  ${h.file} (${length(h)} events): ${Object.keys(SCENARIOS).filter((s) => SCENARIOS[s]!(h)).join('; ')}`);
} finally {
  if (!given) rmSync(scratch, { recursive: true, force: true });
}
