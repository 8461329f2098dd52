// POST /v1/admin/customers/{id}/credentials: a new auth token or API key; its secret is shown
// in this answer only (stored hashed).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { tenancyCall } from './http-errors.js';
import { errors, security } from './schemas.js';
import { issueCredential as issue } from './tenancy.js';

export const issueCredentialSchema = {
  tags: ['admin'],
  summary: 'Issue a credential; the secret is shown once',
  security,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { kind: { type: 'string', enum: ['auth-token', 'api-key'] }, endUser: { type: 'string', maxLength: 64 } },
  },
  response: {
    201: {
      type: 'object',
      properties: { id: { type: 'string' }, secret: { type: 'string' }, customer: { type: 'string' }, endUser: { type: 'string' } },
    },
    ...errors,
  },
};

type IssueRequest = FastifyRequest<{ Params: { id: string }; Body: { kind?: 'auth-token' | 'api-key'; endUser?: string } }>;

export function issueCredential(gw: Gateway) {
  return async (req: IssueRequest, reply: FastifyReply) => {
    const issued = await tenancyCall(() =>
      issue(gw.deps.stores, req.params.id, {
        kind: req.body?.kind ?? 'api-key',
        ...(req.body?.endUser !== undefined ? { endUser: req.body.endUser } : {}),
      }),
    );
    return reply.code(201).send(issued);
  };
}
