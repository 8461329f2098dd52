// Operations routes: liveness (/healthz), readiness (/readyz: stores open, projection current,
// policy loaded) and Prometheus metrics (/metrics; in a cluster worker, every worker's merged).

import fp from 'fastify-plugin';

const status = { type: 'object', properties: { status: { type: 'string' } } } as const;

export default fp(
  async (app) => {
    const gw = app.gateway;
    const { deps } = gw;
    app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness', response: { 200: status } } }, async () => ({ status: 'ok' }));
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['ops'],
          summary: 'Readiness: stores open, projection current, policy loaded',
          response: { 200: { type: 'object', properties: { status: { type: 'string' }, policyVersion: { type: 'string' } } }, 503: status },
        },
      },
      async (_req, reply) => {
        const ready = deps.ready ? deps.ready() : true;
        if (!ready) return reply.code(503).send({ status: 'not ready' });
        return { status: 'ready', policyVersion: deps.policy().policyVersion };
      },
    );
    app.get(
      '/metrics',
      { schema: { tags: ['ops'], summary: "Prometheus metrics (with --workers N: every worker's, merged)" } },
      async (_req, reply) => {
        reply.header('content-type', gw.metrics.registry.contentType);
        if (deps.clusterMetrics !== undefined) {
          const merged = await deps.clusterMetrics();
          reply.header('x-warden-metrics-scope', merged !== null ? `cluster; workers=${merged.workers}` : 'worker');
          if (merged !== null) return merged.text;
        }
        return gw.metrics.registry.metrics();
      },
    );
  },
  { name: 'warden-ops', decorators: { fastify: ['gateway'] } },
);
