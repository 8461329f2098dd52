// CORS for the console routes, only when origins are configured: a closed policy needs no hook
// on every request.

import fp from 'fastify-plugin';
import cors from '@fastify/cors';

export default fp(
  async (app) => {
    const origins = app.gateway.options.corsOrigins;
    if (origins.length === 0) return;
    await app.register(cors, {
      origin: origins,
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
  },
  { name: 'warden-cors', decorators: { fastify: ['gateway'] } },
);
