import { afterEach, describe, expect, it } from 'vitest';
import { auditedRoutes } from '../../../src/http/audit-actions.js';
import { createPrometheusMetrics } from '../../../src/metrics/node/prometheus-metrics.js';
import { createTestApp } from '../../helpers/app.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

/** The app with every optional part that adds routes (metrics). */
const fullApp = () => (t = createTestApp({ metrics: createPrometheusMetrics() }));

type Operation = { security?: Record<string, string[]>[] };

/** `METHOD /path/:param` for each operation of the OpenAPI document that asks for a bearer token. */
async function organiserOperations(app: TestApp): Promise<string[]> {
  const res = await app.request('GET', '/api/v1/openapi.json', { token: null });
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { paths: Record<string, Record<string, Operation>> };
  const keys: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!operation.security?.some((requirement) => 'bearerAuth' in requirement)) continue;
      keys.push(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
    }
  }
  return keys;
}

/** The endpoints the app registered (middleware is registered for ALL methods and is not one). */
function registeredEndpoints(app: TestApp): string[] {
  return [...new Set(app.app.routes.filter((route) => route.method !== 'ALL').map((route) => `${route.method} ${route.path}`))];
}

describe('every organiser route has an audit action', () => {
  it('names an action for each organiser operation of the OpenAPI document', async () => {
    const app = fullApp();
    const operations = await organiserOperations(app);
    // The document itself must list the organiser routes, or this test would pass on an empty list.
    expect(operations).toEqual(expect.arrayContaining(['GET /api/v1/campaigns/:slug/signatures.csv', 'GET /api/v1/letters/:id', 'POST /api/v1/tokens', 'GET /api/v1/audit']));
    expect(operations.filter((key) => !auditedRoutes[key])).toEqual([]);
  });

  it('says for each dashboard route what it records, or that it records nothing on purpose', () => {
    const app = fullApp();
    const dashboard = registeredEndpoints(app).filter((key) => key.split(' ')[1]!.startsWith('/admin'));
    expect(dashboard.length).toBeGreaterThan(30);
    expect(dashboard.filter((key) => !(key in auditedRoutes))).toEqual([]);
  });

  it('has no entry for a route that does not exist (a renamed route would otherwise lose its events silently)', () => {
    const app = fullApp();
    const endpoints = new Set(registeredEndpoints(app));
    expect(Object.keys(auditedRoutes).filter((key) => !endpoints.has(key))).toEqual([]);
  });

  it('uses stable dotted action names', () => {
    for (const entry of Object.values(auditedRoutes)) {
      if (!entry) continue;
      for (const action of [entry.action, entry.pdfAction].filter((name) => name !== undefined)) expect(action).toMatch(/^[a-z_]+\.[a-z_]+$/);
    }
  });
});
