// POST /v1/review/{id}: release (forward upstream) or refuse a held message or call; the app
// hears through its StatusCallback. Exactly once across nodes: a second settlement gets 409, an
// upstream that cannot be reached 503 (the item stays held).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { errorSchema } from '../native/schemas.js';
import { HeldConflict, settleHeld } from '../review/settle-held.js';
import { UpstreamError } from '../twilio/upstream.js';
import { httpError } from './http-errors.js';
import { errors, security } from './schemas.js';

export const settleReviewSchema = {
  tags: ['admin'],
  summary:
    'Release (forward upstream) or refuse a held message; the app hears through its StatusCallback. Exactly once across nodes: a second settlement gets 409',
  security,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['action'],
    properties: {
      action: { type: 'string', enum: ['release', 'refuse'] },
      actor: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'Who decided, for the review queue and the audit log (default admin-api)',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        sid: { type: 'string' },
        status: { type: 'string' },
        upstreamStatus: { type: 'integer' },
        upstreamSid: { type: 'string' },
        errorCode: { type: 'integer' },
      },
    },
    ...errors,
    503: errorSchema,
  },
};

type SettleRequest = FastifyRequest<{ Params: { id: string }; Body: { action: 'release' | 'refuse'; actor?: string } }>;

export function settleReview(gw: Gateway) {
  return async (req: SettleRequest, reply: FastifyReply) => {
    const sid = req.params.id;
    try {
      const result = await settleHeld(gw, sid, req.body.action, req.body.actor ?? 'admin-api');
      if (result === null) throw httpError(404, `nothing held as ${sid}`);
      return { sid, ...result };
    } catch (e) {
      if (e instanceof HeldConflict) return reply.code(409).send({ error: e.message, statusCode: 409 });
      if (e instanceof UpstreamError) return reply.code(503).send({ error: e.message, statusCode: 503 });
      throw e;
    }
  };
}
