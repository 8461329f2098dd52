// POST /v1/review/{id}/callback: a settled item's status callback sent again. The retry schedule
// ends after a few minutes; an app down longer loses its callback (given_up), and one that refused
// a callback may want it again once fixed. The operator sends it again: one more attempt now, then
// the usual schedule.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { callbackSchema, errors, security } from './schemas.js';

export const resendCallbackSchema = {
  tags: ['admin'],
  summary: "Send a settled item's status callback again (given up, or refused by the app): due now, retried on the usual schedule",
  security,
  body: { type: 'object', additionalProperties: false, properties: { actor: { type: 'string', minLength: 1, maxLength: 200 } } },
  response: {
    200: { type: 'object', properties: { sid: { type: 'string' }, callback: callbackSchema } },
    ...errors,
  },
};

export function resendCallback(gw: Gateway) {
  const review = gw.deps.stores.review;
  return async (req: FastifyRequest<{ Params: { id: string }; Body: { actor?: string } | undefined }>, reply: FastifyReply) => {
    const sid = req.params.id;
    const item = await review.get(sid);
    if (item === null) return reply.code(404).send({ error: `nothing held as ${sid}`, statusCode: 404 });
    const requeued = await review.requeueCallback(sid, req.body?.actor ?? 'admin-api', new Date().toISOString());
    if (requeued === null) {
      const why = item.callback === undefined ? 'has no status callback' : `has its status callback ${item.callback.state}`;
      return reply
        .code(409)
        .send({ error: `${sid} ${why}: only a callback given up or refused by the app can be sent again`, statusCode: 409 });
    }
    return { sid, callback: requeued.callback };
  };
}
