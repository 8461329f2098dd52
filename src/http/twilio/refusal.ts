// A Twilio-compatible request refused: the error the app sees (Twilio's JSON shape, which the
// `twilio` package turns into a RestException) and, for throttles, when to retry.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { twilioError, type TwilioErrorName } from './twilio-errors.js';
import { UpstreamError } from './upstream.js';

export class TwilioRefusal extends Error {
  constructor(
    readonly error: TwilioErrorName,
    readonly detail?: string,
    readonly retryAfter?: number,
  ) {
    super(error);
  }
}

export function refuse(reply: FastifyReply, e: TwilioRefusal): FastifyReply {
  const body = twilioError(e.error, e.detail);
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  return reply.code(body.status).send(body);
}

/**
 * Wraps a Twilio route handler: a refusal becomes Twilio's error JSON, an unreachable upstream
 * 503 (20503); anything else is a fault of Warden's and reaches the error handler.
 */
export function twilioHandler<R extends FastifyRequest>(handle: (req: R, reply: FastifyReply) => Promise<unknown>) {
  return async (req: R, reply: FastifyReply): Promise<unknown> => {
    try {
      return await handle(req, reply);
    } catch (e) {
      if (e instanceof TwilioRefusal) return refuse(reply, e);
      if (e instanceof UpstreamError) {
        req.log.warn({ err: e }, 'upstream unavailable');
        return reply.code(503).send(twilioError('upstream'));
      }
      throw e;
    }
  };
}
