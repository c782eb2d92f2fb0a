import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseAgreement, type Agreement, type AgreementProblem } from '../contracts/agreement.js';

export const agreementsDir = fileURLToPath(new URL('../contracts/agreements', import.meta.url));

export interface FileProblem extends AgreementProblem {
  file: string;
}

export interface LoadedAgreements {
  agreements: Agreement[];
  problems: FileProblem[];
}

/** Loads and validates every agreement file in a folder; a file with problems contributes none of its terms. */
export async function loadAgreements(dir: string = agreementsDir): Promise<LoadedAgreements> {
  const files = readdirSync(dir).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const agreements: Agreement[] = [];
  const problems: FileProblem[] = [];
  const agreementFile = new Map<string, string>();
  const chargerFile = new Map<string, string>();
  for (const name of files) {
    const file = path.relative(process.cwd(), path.join(dir, name)) || name;
    let exported: unknown;
    try {
      // The modification time in the URL makes a changed file load anew instead of from the module cache.
      const url = `${pathToFileURL(path.join(dir, name)).href}?t=${statSync(path.join(dir, name)).mtimeMs}`;
      exported = ((await import(url)) as { default?: unknown }).default;
    } catch (error) {
      problems.push({ file, path: '(file)', message: `cannot be loaded: ${error instanceof Error ? error.message : String(error)}`, found: undefined });
      continue;
    }
    if (exported === undefined) {
      problems.push({ file, path: '(file)', message: 'expected a default export made with defineAgreement(...)', found: undefined });
      continue;
    }
    const result = parseAgreement(exported);
    if (!result.agreement) {
      problems.push(...result.problems.map((p) => ({ file, ...p })));
      continue;
    }
    const agreement = result.agreement;
    const clash = agreementFile.get(agreement.id);
    if (clash) {
      problems.push({ file, path: 'id', message: `expected an agreement id not used elsewhere; ${clash} uses it`, found: agreement.id });
      continue;
    }
    agreementFile.set(agreement.id, file);
    let chargerClash = false;
    agreement.sites.forEach((site, s) =>
      site.chargers.forEach((charger, c) => {
        const other = chargerFile.get(charger.id);
        if (other) {
          chargerClash = true;
          problems.push({ file, path: `sites.${s}.chargers.${c}.id`, message: `expected each charger in one agreement only; ${other} covers it too`, found: charger.id });
        } else chargerFile.set(charger.id, file);
      }),
    );
    if (!chargerClash) agreements.push(agreement);
  }
  return { agreements, problems };
}

/** One line per problem: file, field path, what was expected and what was found. */
export function formatProblems(problems: FileProblem[]): string {
  return problems.map((p) => `${p.file}: ${p.path}: ${p.message}; found ${describe(p.found)}`).join('\n');
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
