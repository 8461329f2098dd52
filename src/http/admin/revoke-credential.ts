// DELETE /v1/admin/credentials/{id}: the credential stops authenticating on every node (each
// drops its cached verification when told tenancy changed).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { httpError } from './http-errors.js';
import { errors, security } from './schemas.js';

export const revokeCredentialSchema = {
  tags: ['admin'],
  summary: 'Revoke a credential',
  security,
  response: { 204: { type: 'null' }, ...errors },
};

export function revokeCredential(gw: Gateway) {
  const tenancy = gw.deps.stores.tenancy;
  return async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const cred = await tenancy.getCredential(req.params.id);
    if (cred === null) throw httpError(404, `no credential ${req.params.id}`);
    await tenancy.revokeCredential(req.params.id, new Date().toISOString());
    gw.tenancyChanged();
    return reply.code(204).send();
  };
}
