// GET /v1/admin/customers/{id}: one customer, secrets redacted.

import type { FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { httpError } from './http-errors.js';
import { customerSchema, errors, security } from './schemas.js';
import { redacted } from './tenancy.js';

export const getCustomerSchema = { tags: ['admin'], summary: 'One customer', security, response: { 200: customerSchema, ...errors } };

export function getCustomer(gw: Gateway) {
  return async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const c = await gw.deps.stores.tenancy.getCustomer(req.params.id);
    if (c === null) throw httpError(404, `no customer ${req.params.id}`);
    return redacted(c);
  };
}
