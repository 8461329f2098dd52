// POST /v1/admin/customers/{id}/enforcement: an enforcement action (warn, throttle, suspend,
// reinstate) appended to the enforcement log; the storage layer applies it to every node's state.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { httpError } from './http-errors.js';
import { errors, security } from './schemas.js';

export const recordEnforcementSchema = {
  tags: ['admin'],
  summary: 'Record an enforcement action (suspend, reinstate, warn, throttle)',
  security,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['action', 'reason'],
    properties: {
      action: { type: 'string', enum: ['warn', 'throttle', 'suspend', 'reinstate'] },
      endUser: { type: 'string', maxLength: 64 },
      reason: { type: 'string', minLength: 1, maxLength: 2000 },
      clause: { type: 'string', maxLength: 100 },
    },
  },
  response: { 201: { type: 'object', additionalProperties: true }, ...errors },
};

type EnforcementRequest = FastifyRequest<{
  Params: { id: string };
  Body: { action: 'warn' | 'throttle' | 'suspend' | 'reinstate'; endUser?: string; reason: string; clause?: string };
}>;

export function recordEnforcement(gw: Gateway) {
  const stores = gw.deps.stores;
  return async (req: EnforcementRequest, reply: FastifyReply) => {
    if ((await stores.tenancy.getCustomer(req.params.id)) === null) throw httpError(404, `no customer ${req.params.id}`);
    const ev = await stores.enforcement.append({ customer: req.params.id, ...req.body, actor: 'admin-api', at: new Date().toISOString() });
    return reply.code(201).send(ev);
  };
}
