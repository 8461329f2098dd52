// Request latency by route pattern: each route gets its own onResponse hook that knows its URL
// pattern (a global hook would read request.routeOptions, which builds an object per call).
// Registered before the routes, which it sees as they are added.

import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';

export default fp(
  async (app) => {
    const metrics = app.gateway.metrics;
    app.addHook('onRoute', (route) => {
      const url = route.url ?? '';
      const observe = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
        metrics.observeHttp(url, req.method, reply.statusCode, reply.elapsedTime / 1000);
        done();
      };
      const existing = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
      route.onResponse = [...existing, observe] as typeof route.onResponse;
    });
  },
  { name: 'warden-route-metrics', decorators: { fastify: ['gateway'] } },
);
