// buildApp(deps) -> a Fastify instance with every HTTP surface of the gateway: the native API,
// the Twilio-compatible API (with passthrough), the admin API, health, metrics, OpenAPI and docs,
// and optionally the built-in sink upstream. It never listens: `warden serve`, tests and the
// benchmark decide how to run it.
//
// One concern per plugin (plugins/), registered in the order they depend on each other: the
// gateway first (everything reads it), then the hooks that must see every route as it is added
// (query coercion, route metrics), then cross-cutting plugins (CORS, rate limit, docs, errors),
// then the routes.

import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Gateway, resolveOptions, type GatewayDeps } from './gateway.js';
import { registerNative } from './native/routes.js';
import { registerTwilio } from './twilio/index.js';
import { rewriteToCanonical } from './twilio/canonical-path.js';
import { registerQueryCoercion } from './plugins/query-coercion.js';
import bodyParsers from './plugins/body-parsers.js';
import routeMetrics from './plugins/route-metrics.js';
import cors from './plugins/cors.js';
import rateLimit from './plugins/rate-limit.js';
import docs from './plugins/docs.js';
import errors from './plugins/errors.js';
import ops from './plugins/ops.js';
import { registerAdmin } from './admin/index.js';
import { registerSink, SinkState } from './sink/sink.js';

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

function createFastify(build: BuildOptions, bodyLimit: number): FastifyInstance {
  const logger = build.logger ?? true;
  const isInstance = typeof logger === 'object' && logger !== null && typeof (logger as Logger).child === 'function';
  return (Fastify as unknown as (o: Record<string, unknown>) => FastifyInstance)({
    ...(isInstance ? { loggerInstance: logger as Logger } : { logger: logger as boolean | Record<string, unknown> }),
    bodyLimit,
    trustProxy: build.trustProxy ?? false,
    // Every path in its one canonical form before routing: what is routed, authorised, screened
    // and forwarded is the same path (twilio/canonical-path.ts).
    rewriteUrl: rewriteToCanonical,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 30_000,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: false,
        // Formats used by Twilio's schemas that carry no validation Warden needs.
        formats: Object.fromEntries(
          ['phone-number', 'date-time-rfc-2822', 'currency', 'uri-map', 'endpoint', 'http-method', 'twiml'].map((f) => [f, true]),
        ),
      },
    },
    // Unique within this process's log stream (a worker's lines also carry its id): a counter, not a random string per request.
    genReqId: () => `req_${(++requestSeq).toString(36)}`,
  });
}

export async function buildApp(deps: GatewayDeps, build: BuildOptions = {}): Promise<FastifyInstance> {
  const app = createFastify(build, resolveOptions(deps.options).bodyLimit);
  const gw = new Gateway(deps, { log: app.log, server: app.server });
  app.decorate('gateway', gw);

  registerQueryCoercion(app);
  await app.register(routeMetrics);
  await app.register(bodyParsers);
  await app.register(cors);
  await app.register(rateLimit);
  await app.register(docs);
  await app.register(errors);
  await app.register(ops);

  await app.register(async (scope) => registerNative(scope, gw));
  await app.register(async (scope) => registerAdmin(scope, gw));
  await app.register(async (scope) => registerTwilio(scope, gw));
  const sinkState = gw.options.sink ? new SinkState(gw.options.sinkToken) : null;
  app.decorate('sink', sinkState);
  if (sinkState !== null)
    await app.register(
      async (scope) => {
        await registerSink(scope, { state: sinkState, log: app.log, egress: gw.sinkEgress ?? gw.egress });
      },
      { prefix: '/sink' },
    );

  app.addHook('onClose', async () => {
    await gw.decisions.flush();
    await gw.upstream.close();
    await gw.sinkEgress?.close();
  });
  return app;
}
