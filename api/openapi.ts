import type { OpenAPIHono } from '@hono/zod-openapi';

type Document = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
interface Operation {
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
}

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/**
 * The answers the app-wide middleware gives, written into each /api operation they apply to, so the
 * document lists every status a client can get: 401 from the token check, 400 from validation
 * (any operation with parameters or a body), 413 from the body limit (any operation with a body).
 */
export function withAppWideAnswers(document: Document): Document {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    if (!path.startsWith('/api/')) continue;
    for (const operation of Object.values(item as Record<string, Operation>)) {
      if (typeof operation !== 'object' || !operation?.responses) continue;
      const { responses } = operation;
      responses['401'] ??= problem('no valid bearer token');
      if (operation.parameters?.length || operation.requestBody) responses['400'] ??= problem('invalid request: each field named in errors[]');
      if (operation.requestBody) responses['413'] ??= problem('the body is larger than the limit');
    }
  }
  return document;
}

/** The methods the app serves on a path (for 405 and its Allow header); none when no route has the path. */
export function methodsServing(routes: ReadonlyArray<{ method: string; path: string }>, path: string): string[] {
  const methods = routes
    .filter((route) => route.method !== 'ALL' && routePattern(route.path).test(path))
    .map((route) => route.method.toUpperCase());
  return [...new Set(methods)].sort();
}

const patterns = new Map<string, RegExp>();
/** A Hono route path as a regular expression: `:name` is one segment, `*` anything. */
function routePattern(routePath: string): RegExp {
  let pattern = patterns.get(routePath);
  if (!pattern) {
    const source = routePath
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    pattern = new RegExp(`^${source}/?$`);
    patterns.set(routePath, pattern);
  }
  return pattern;
}
