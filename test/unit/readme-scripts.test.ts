import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const docs = ['README.md', 'docs/architecture.md', 'docs/benchmarks.md', 'docs/contributing.md'].map((file) => readFileSync(path.join(root, file), 'utf8')).join('\n');

/** The scripts the docs tell a person to run: `npm start`, `npm test`, `npm run <name>`. */
const named = [...new Set([...docs.matchAll(/npm (start|test)\b|npm run ([a-z0-9:-]+)/g)].map((m) => m[1] ?? m[2]!))].sort();

/**
 * A fresh clone has no node_modules and no .tools: every script the docs name must install what
 * is missing first (scripts/setup.sh, quick and silent when all is there), directly or through
 * the script it runs. `npm run bench` used not to, and failed with "cannot run the Temporal CLI".
 */
describe('the npm scripts the docs name', () => {
  it('are all defined', () => {
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => scripts[name] === undefined)).toEqual([]);
  });

  it.each(named)('`%s` sets up what is missing before it runs', (name) => {
    const setsUp = (script: string): boolean => {
      const first = script.split('&&')[0]!.trim();
      if (first === 'bash scripts/setup.sh') return true;
      const runs = /^npm run ([a-z0-9:-]+)$/.exec(first)?.[1];
      return runs !== undefined && scripts[runs] !== undefined && setsUp(scripts[runs]);
    };
    expect(setsUp(scripts[name]!), `${name}: ${scripts[name]}`).toBe(true);
  });

  it('hand the process over (exec) where one long-running program follows, so a signal to npm’s PID reaches it', () => {
    for (const name of ['start', 'concierge', 'bench', 'chaos']) expect(scripts[name], name).toMatch(/&& exec node /);
  });
});
