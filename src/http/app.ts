// buildApp(deps) -> a Fastify instance with every HTTP surface of the gateway: the native API,
// the Twilio-compatible API (with passthrough), the admin API, health, metrics, OpenAPI and docs,
// and optionally the built-in sink upstream. It never listens: `warden serve`, tests and the
// benchmark decide how to run it.

import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { parse as parseQuery } from 'node:querystring';
import { Gateway, type GatewayDeps } from './gateway.js';
import { registerNative } from './native/routes.js';
import { registerTwilio, isTwilioPath } from './twilio/index.js';
import { rewriteToCanonical } from './twilio/canonical-path.js';
import { registerQueryCoercion } from './plugins/query-coercion.js';
import { registerAdmin } from './admin/index.js';
import { registerSink, SinkState } from './sink/sink.js';
import { RAW_BODY, type FormFields } from './twilio/form.js';
import { countersRateLimitStore } from './rate-limit-store.js';

export interface BuildOptions {
  /** A pino logger, pino options, or false for silence. Defaults to info-level JSON on stdout. */
  logger?: Logger | boolean | Record<string, unknown>;
  /** Honour X-Forwarded-* (behind a proxy). */
  trustProxy?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: Gateway;
    sink: SinkState | null;
  }
}

let requestSeq = 0;

export async function buildApp(deps: GatewayDeps, build: BuildOptions = {}): Promise<FastifyInstance> {
  const gw = new Gateway(deps);
  const logger = build.logger ?? true;
  const isInstance = typeof logger === 'object' && logger !== null && typeof (logger as Logger).child === 'function';
  const app = (Fastify as unknown as (o: Record<string, unknown>) => FastifyInstance)({
    ...(isInstance ? { loggerInstance: logger as Logger } : { logger: logger as boolean | Record<string, unknown> }),
    bodyLimit: gw.options.bodyLimit,
    trustProxy: build.trustProxy ?? false,
    // Every path in its one canonical form before routing: what is routed, authorised, screened
    // and forwarded is the same path (twilio/canonical-path.ts).
    rewriteUrl: rewriteToCanonical,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 30_000,
    ajv: {
      customOptions: {
        removeAdditional: false, coerceTypes: false, allErrors: false,
        // Formats used by Twilio's schemas that carry no validation Warden needs.
        formats: Object.fromEntries(['phone-number', 'date-time-rfc-2822', 'currency', 'uri-map', 'endpoint', 'http-method', 'twiml'].map((f) => [f, true])),
      },
    },
    // Unique within this process's log stream (a worker's lines also carry its id): a counter, not a random string per request.
    genReqId: () => `req_${(++requestSeq).toString(36)}`,
  });
  app.decorate('gateway', gw);
  gw.bindServer(app.server);
  gw.attachLogger(app.log);
  registerQueryCoercion(app);

  // Forms keep their raw text (forwarded unchanged upstream) beside the parsed fields; repeated
  // names (MediaUrl) become arrays.
  await app.register(formbody, {
    bodyLimit: 64 * 1024,
    parser: (text: string) => {
      const fields = parseQuery(text) as FormFields;
      const out: FormFields = Object.create(null);
      for (const [k, v] of Object.entries(fields)) out[k] = v;
      Object.defineProperty(out, RAW_BODY, { value: text, enumerable: false });
      return out;
    },
  });
  // Any other body (passthrough of arbitrary Twilio API calls) arrives as a Buffer.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));

  // Request latency by route pattern: each route gets its own onResponse hook that knows its URL
  // pattern (a global hook would read request.routeOptions, which builds an object per call).
  app.addHook('onRoute', (route) => {
    const url = route.url ?? '';
    const observe = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      gw.metrics.observeHttp(url, req.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
    route.onResponse = [...existing, observe] as typeof route.onResponse;
  });
  // CORS only when origins are configured: a closed policy needs no hook on every request.
  if (gw.options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: gw.options.corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
  }
  if (gw.options.rateLimit !== false) {
    const shared = gw.options.rateLimit.shared === true ? countersRateLimitStore(gw.deps.stores.counters) : null;
    if (shared !== null) app.addHook('onClose', async () => shared.close());
    await app.register(rateLimit, {
      global: true,
      max: gw.options.rateLimit.max,
      timeWindow: gw.options.rateLimit.timeWindowMs,
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
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Warden gateway',
        version: '0.1.0',
        description: 'Screens outbound SMS, MMS and calls against the Acceptable Use Policy. Native API under /v1, Twilio-compatible API under /2010-04-01.',
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
    },
  });
  // Security headers protect what a browser renders: the docs UI (and the console). helmet lives
  // in the docs' own scope, so JSON and TwiML API routes, read by programs, run none of its hooks.
  await app.register(async (browser) => {
    await browser.register(helmet, { global: true });
    await browser.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  });

  app.setNotFoundHandler((req, reply) => {
    gw.metrics.observeHttp('unmatched', req.method, 404, reply.elapsedTime / 1000);
    // Twilio's error shape for a Twilio client (the SDK reads code and message), with the
    // native API's error and statusCode beside it.
    const message = `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}`;
    return reply.code(404).send({ code: 20404, message, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404, ...(isTwilioPath(req.url) ? {} : { error: message, statusCode: 404 }) });
  });

  app.setErrorHandler((err: FastifyError & { retryAfterSeconds?: number }, req: FastifyRequest, reply: FastifyReply) => {
    let status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (err.validation) status = 400;
    if (status >= 500) req.log.error({ err }, 'request failed');
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
    if (status === 401) reply.header('www-authenticate', 'Basic realm="warden"');
    const message = status >= 500 ? 'internal error' : err.message;
    if (isTwilioPath(req.url)) {
      const code = status === 429 ? 20429 : status === 401 ? 20003 : 20000 + status;
      return reply.code(status).send({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
    }
    return reply.code(status).send({ error: message, statusCode: status });
  });

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } },
    async () => ({ status: 'ok' }));
  app.get('/readyz', {
    schema: { tags: ['ops'], summary: 'Readiness: stores open, projection current, policy loaded', response: { 200: { type: 'object', properties: { status: { type: 'string' }, policyVersion: { type: 'string' } } }, 503: { type: 'object', properties: { status: { type: 'string' } } } } },
  }, async (_req, reply) => {
    const ready = deps.ready ? deps.ready() : true;
    if (!ready) return reply.code(503).send({ status: 'not ready' });
    return { status: 'ready', policyVersion: deps.policy().policyVersion };
  });
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (with --workers N: every worker\'s, merged)' } }, async (_req, reply) => {
    reply.header('content-type', gw.metrics.registry.contentType);
    if (deps.clusterMetrics !== undefined) {
      const merged = await deps.clusterMetrics();
      reply.header('x-warden-metrics-scope', merged !== null ? `cluster; workers=${merged.workers}` : 'worker');
      if (merged !== null) return merged.text;
    }
    return gw.metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (scope) => registerNative(scope, gw));
  await app.register(async (scope) => registerAdmin(scope, gw));
  await app.register(async (scope) => registerTwilio(scope, gw));
  const sinkState = gw.options.sink ? new SinkState(gw.options.sinkToken) : null;
  app.decorate('sink', sinkState);
  if (sinkState !== null) await app.register(async (scope) => { await registerSink(scope, { state: sinkState, log: app.log, egress: gw.sinkEgress ?? gw.egress }); }, { prefix: '/sink' });

  app.addHook('onClose', async () => {
    await gw.decisions.flush();
    await gw.upstream.close();
    await gw.sinkEgress?.close();
  });
  return app;
}
