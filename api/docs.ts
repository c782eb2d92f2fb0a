import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);
const swaggerUi = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** Swagger UI served from the installed package: the docs page works on a machine without internet. */
export function docsRoutes(openApiPath: string) {
  const assets: Record<string, { body: string; type: string }> = {
    'swagger-ui.css': { body: readFileSync(path.join(swaggerUi, 'swagger-ui.css'), 'utf8'), type: 'text/css' },
    'swagger-ui-bundle.js': { body: readFileSync(path.join(swaggerUi, 'swagger-ui-bundle.js'), 'utf8'), type: 'text/javascript' },
  };
  const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Concierge API</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script></body>
</html>`;
  const init = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(openApiPath)}, dom_id: '#ui', persistAuthorization: true });`;

  return new Hono()
    .get('/', (c) => c.html(page))
    .get('/assets/init.js', (c) => c.body(init, 200, { 'content-type': 'text/javascript' }))
    .get('/assets/:file', (c) => {
      const asset = assets[c.req.param('file')];
      if (!asset) return c.notFound();
      return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
    });
}
