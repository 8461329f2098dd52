// Requests per client per window (GatewayOptions.rateLimit): a client is its credential's
// username when it sends one, else its address. Counted in this process's memory, or in the
// stores' Counters (Redis: across every node) when shared. Health probes and the mounted sink
// are not counted. An exceeded limit is a 429 with Retry-After (see errors.ts).

import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { countersRateLimitStore } from '../rate-limit-store.js';

export default fp(
  async (app) => {
    const gw = app.gateway;
    const limit = gw.options.rateLimit;
    if (limit === false) return;
    const shared = limit.shared === true ? countersRateLimitStore(gw.deps.stores.counters) : null;
    if (shared !== null) app.addHook('onClose', async () => shared.close());
    await app.register(rateLimit, {
      global: true,
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      ...(shared !== null ? { store: shared.Store } : {}),
      keyGenerator: (req: FastifyRequest) => {
        const username = gw.auth.usernameOf(req.headers.authorization);
        return username !== null ? `cred:${username}` : `ip:${req.ip}`;
      },
      allowList: (req: FastifyRequest) => req.url.startsWith('/healthz') || req.url.startsWith('/readyz') || req.url.startsWith('/sink/'),
      errorResponseBuilder: (_req: FastifyRequest, ctx: { after: string; ttl: number }) => {
        const err = new Error(`Rate limit exceeded, retry in ${ctx.after}`) as Error & { statusCode: number; retryAfterSeconds: number };
        err.statusCode = 429;
        err.retryAfterSeconds = Math.max(1, Math.ceil(ctx.ttl / 1000));
        return err;
      },
    });
  },
  { name: 'warden-rate-limit', decorators: { fastify: ['gateway'] } },
);
