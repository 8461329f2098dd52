// GET /v1/review: messages and calls held for review, from the durable review queue every node
// shares; by default only those not yet settled (held, releasing).

import type { FastifyRequest } from 'fastify';
import type { HeldState } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { decisionSchema } from '../native/schemas.js';
import { callbackSchema, errors, security } from './schemas.js';

const HELD_STATES = ['held', 'releasing', 'released', 'refused'] as const;

const heldSchema = {
  type: 'object',
  properties: {
    sid: { type: 'string' },
    kind: { type: 'string' },
    customer: { type: 'string' },
    endUser: { type: 'string' },
    heldAt: { type: 'string' },
    state: { type: 'string' },
    settledAt: { type: 'string' },
    settledBy: { type: 'string' },
    decision: decisionSchema,
    callback: callbackSchema,
  },
};

export const listReviewSchema = {
  tags: ['admin'],
  summary: 'Messages and calls held for review (the durable review queue, shared by every node)',
  security,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      customer: { type: 'string', maxLength: 64 },
      state: { type: 'string', enum: [...HELD_STATES, 'all'], description: 'Default: held and releasing (not yet settled)' },
      limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
    },
  },
  response: { 200: { type: 'object', properties: { held: { type: 'array', items: heldSchema } } }, ...errors },
};

type ListRequest = FastifyRequest<{ Querystring: { customer?: string; state?: HeldState | 'all'; limit?: number } }>;

export function listReview(gw: Gateway) {
  return async (req: ListRequest) => {
    const { customer, state, limit } = req.query;
    const states: HeldState[] | undefined = state === undefined ? undefined : state === 'all' ? [...HELD_STATES] : [state];
    return {
      held: await gw.deps.stores.review.list({
        ...(customer !== undefined ? { customer } : {}),
        ...(states !== undefined ? { states } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    };
  };
}
