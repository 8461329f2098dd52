// How errors reach clients: Twilio's error JSON ({code, message, more_info, status}) on the
// Twilio paths, {error, statusCode} elsewhere; a 5xx never carries the cause (it is logged).
// Validation failures are 400s; an exceeded rate limit carries Retry-After; a 401 names the
// Basic realm. Unmatched paths are 404s counted under the route label `unmatched`.

import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isTwilioPath } from '../twilio/index.js';

export default fp(
  async (app) => {
    const metrics = app.gateway.metrics;
    app.setNotFoundHandler((req, reply) => {
      metrics.observeHttp('unmatched', req.method, 404, reply.elapsedTime / 1000);
      // Twilio's error shape for a Twilio client (the SDK reads code and message), with the
      // native API's error and statusCode beside it.
      const message = `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}`;
      return reply.code(404).send({
        code: 20404,
        message,
        more_info: 'https://www.twilio.com/docs/errors/20404',
        status: 404,
        ...(isTwilioPath(req.url) ? {} : { error: message, statusCode: 404 }),
      });
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
  },
  { name: 'warden-errors', decorators: { fastify: ['gateway'] } },
);
