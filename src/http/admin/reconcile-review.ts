// POST /v1/review/{id}/reconcile: a node that dies between forwarding a release and recording it
// leaves the item `releasing`: Warden cannot know whether the upstream got it, so it never
// forwards it again by itself. The operator looks at the upstream and records what happened:
// forwarded (settled as released; the upstream reports delivery to the app's StatusCallback) or
// not (held again, to release or refuse as usual). A claim younger than RECONCILE_AFTER_MS may
// be a release still in progress.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { errors, security } from './schemas.js';

/** How old a release claim must be before an operator may reconcile it. */
export const RECONCILE_AFTER_MS = 60_000;

export const reconcileReviewSchema = {
  tags: ['admin'],
  summary: 'Settle an item left `releasing` by a node that died mid-release, from what the upstream shows',
  security,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['forwarded'],
    properties: {
      forwarded: { type: 'boolean', description: 'Whether the upstream received the message or call' },
      upstreamSid: { type: 'string', maxLength: 64 },
      upstreamStatus: { type: 'integer', minimum: 100, maximum: 599, description: 'Default 201' },
      actor: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  response: { 200: { type: 'object', properties: { sid: { type: 'string' }, state: { type: 'string' } } }, ...errors },
};

type ReconcileRequest = FastifyRequest<{
  Params: { id: string };
  Body: { forwarded: boolean; upstreamSid?: string; upstreamStatus?: number; actor?: string };
}>;

export function reconcileReview(gw: Gateway) {
  const stores = gw.deps.stores;
  return async (req: ReconcileRequest, reply: FastifyReply) => {
    const sid = req.params.id;
    const item = await stores.review.get(sid);
    if (item === null) return reply.code(404).send({ error: `nothing held as ${sid}`, statusCode: 404 });
    if (item.state !== 'releasing')
      return reply.code(409).send({ error: `${sid} is ${item.state}: only an item left releasing can be reconciled`, statusCode: 409 });
    const age = Date.now() - Date.parse(item.claimedAt ?? '');
    if (!(age >= RECONCILE_AFTER_MS))
      return reply.code(409).send({
        error: `${sid} was claimed ${Math.round(age / 1000)} s ago and may still be releasing; reconcile after ${RECONCILE_AFTER_MS / 1000} s`,
        statusCode: 409,
      });
    const by = req.body.actor ?? 'admin-api';
    const at = new Date().toISOString();
    if (req.body.forwarded) {
      await stores.review.released(sid, {
        by,
        at,
        upstreamStatus: req.body.upstreamStatus ?? 201,
        ...(req.body.upstreamSid !== undefined ? { upstreamSid: req.body.upstreamSid } : {}),
      });
      return { sid, state: 'released' };
    }
    await stores.review.unclaim(sid);
    await stores.audit.append({
      actor: by,
      action: 'review.reconcile',
      subject: `held:${sid}`,
      detail: { customer: item.customer, forwarded: false, claimedBy: item.claimedBy ?? null },
      at,
    });
    return { sid, state: (await stores.review.get(sid))?.state ?? 'held' };
  };
}
