/* global module */
/**
 * The folders and what each may import (`npm run check` runs this): a layering, so no two
 * top-level folders import each other, however indirectly. Lower layers never reach up:
 *
 *   contracts (pure rules, the vocabulary)  ←  db, migrations  ←  platform (log, secrets, mail)
 *   ←  agreements  ←  ocpp (the gateway)  ←  activities  ←  workflows (types only from below)
 *   ←  workflow-clients (start and signal workflows: the outbox relay, open-or-join)  ←  api
 *   ←  console (the pages, reading through the API's rules)  ←  runtime (assembles a process)  ←  bin, bench, tools;  simulator and testkit stand alone;  test may use anything.
 */
const FOLDERS = ['api', 'console', 'activities', 'agreements', 'bench', 'bin', 'contracts', 'db', 'migrations', 'ocpp', 'platform', 'runtime', 'workflows', 'workflow-clients', 'simulator', 'testkit', 'tools', 'test'];
const layer = (from, ...to) => ({ from: { path: `^${from}/` }, to: { path: `^(${[from, ...to].join('|')})/` } });

module.exports = {
  allowed: [
    // Packages and Node's own modules: any folder (the workflow sandbox rule in eslint.config.js narrows workflows/).
    { from: {}, to: { dependencyTypes: ['core'] } },
    { from: {}, to: { dependencyTypes: ['npm', 'npm-dev', 'npm-no-pkg', 'npm-unknown'] } },
    // A package's subpath its exports map serves (hono/factory, kysely/migration).
    { from: {}, to: { couldNotResolve: true, path: '^@?[a-z]', pathNot: `^(${FOLDERS.join('|')})/` } },
    layer('contracts'),
    layer('migrations', 'contracts'),
    layer('db', 'contracts', 'migrations'),
    layer('platform', 'contracts'),
    layer('agreements', 'contracts', 'db'),
    layer('ocpp', 'contracts', 'db', 'platform', 'agreements'),
    layer('activities', 'contracts', 'db', 'platform', 'agreements', 'ocpp'),
    layer('workflows', 'contracts', 'activities', 'ocpp'),
    layer('workflow-clients', 'contracts', 'db', 'platform', 'agreements', 'ocpp', 'workflows'),
    layer('api', 'contracts', 'db', 'platform', 'agreements', 'ocpp', 'workflows', 'workflow-clients'),
    layer('console', 'contracts', 'db', 'platform', 'agreements', 'workflow-clients', 'api'),
    layer('runtime', 'contracts', 'db', 'migrations', 'platform', 'agreements', 'ocpp', 'activities', 'workflows', 'workflow-clients', 'api', 'console'),
    layer('simulator', 'contracts'),
    layer('testkit'),
    layer('bin', 'contracts', 'db', 'platform', 'agreements', 'workflow-clients', 'runtime', 'simulator'),
    layer('bench', 'contracts', 'db', 'platform', 'agreements', 'ocpp', 'runtime', 'simulator', 'testkit'),
    layer('tools', 'contracts', 'db', 'platform', 'runtime', 'simulator', 'testkit'),
    { from: { path: '^test/' }, to: { path: '^(?!test/).+|^test/' } },
    // Loose files at the top (config) may import anything.
    { from: { path: '^[^/]+$' }, to: {} },
  ],
  allowedSeverity: 'error',
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.tools|\\.schemathesis|templates|docs)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
