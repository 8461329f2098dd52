// The API's description: OpenAPI built from the route schemas (served at /openapi.json) and the
// docs UI under /docs. Security headers protect what a browser renders: helmet lives in the docs'
// own scope, so JSON and TwiML API routes, read by programs, run none of its hooks.

import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'Warden gateway',
    version: '0.1.0',
    description:
      'Screens outbound SMS, MMS and calls against the Acceptable Use Policy. Native API under /v1, Twilio-compatible API under /2010-04-01.',
  },
  components: {
    securitySchemes: {
      basicAuth: { type: 'http', scheme: 'basic', description: 'Account SID (or API key SID) and its secret' },
      adminToken: { type: 'http', scheme: 'bearer', description: 'Admin token (WARDEN_ADMIN_TOKEN)' },
    },
  },
  tags: [
    { name: 'screening', description: 'Native screening API' },
    { name: 'consent', description: 'Opt-outs and opt-ins' },
    { name: 'twilio', description: 'Twilio-compatible API (drop-in)' },
    { name: 'webhooks', description: 'Provider webhooks (inbound messages, status callbacks)' },
    { name: 'admin', description: 'Tenancy and review' },
    { name: 'ops', description: 'Health and metrics' },
  ],
} as const;

export default fp(
  async (app) => {
    await app.register(swagger, { openapi: OPENAPI as unknown as Record<string, unknown> });
    await app.register(async (browser) => {
      await browser.register(helmet, { global: true });
      await browser.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'warden-docs' },
);
