import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const workflowsDir = path.dirname(workflowsPath);
const contractsDir = fileURLToPath(new URL('../contracts/', import.meta.url));

/** The libraries the contracts' rules use: stateless, so one copy serves every workflow. */
const SHARED_LIBRARIES = ['zod', 'luxon'];

/**
 * The modules every workflow in a worker shares instead of evaluating its own copy: the
 * `contracts/` modules the workflows import, and the libraries they use. They hold the
 * deterministic rules (calendar, SLA clocks, escalations) and no per-workflow state, only pure
 * memo caches, so sharing them cannot leak one workflow into another; their exports are frozen
 * by the SDK. Each new workflow evaluated zod and luxon again before (replaying the captured
 * incident histories took 6–8 % more CPU; docs/benchmarks.md, "The fault storm").
 */
export function sharedWorkflowModules(): string[] {
  const imported = new Set<string>();
  for (const file of sourceFiles(workflowsDir)) {
    // Value imports only: a type import is erased and loads nothing.
    for (const [, clause, target] of readFileSync(file, 'utf8').matchAll(/^import\s+(type\s+)?[^;]*?from\s+'((?:\.\.\/)+contracts\/[^']+)\.js';/gm)) {
      const module = path.join(contractsDir, path.basename(target!)) + '.ts';
      if (!clause && !buildsSchemas(module)) imported.add(module);
    }
  }
  return [...SHARED_LIBRARIES, ...[...imported].sort()];
}

/** The workflow code every worker runs (and the tests load), bundled once per process. */
export function bundleWorkflows(logger: Parameters<typeof bundleWorkflowCode>[0]['logger']): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger, preloadModules: sharedWorkflowModules() });
}

/**
 * A module that builds zod schemas at its top level keeps its own copy per workflow: zod 4 adds a
 * schema's methods on first use, which the frozen shared copy would refuse.
 */
function buildsSchemas(module: string): boolean {
  return /^import .* from 'zod';$/m.test(readFileSync(module, 'utf8'));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}
