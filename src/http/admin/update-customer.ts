// PUT /v1/admin/customers/{id}: the fields given replace the customer's, settings merge.

import type { FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { tenancyCall } from './http-errors.js';
import { customerPatchSchema, customerSchema, errors, security } from './schemas.js';
import { redacted, updateCustomer as update, type CustomerInput } from './tenancy.js';

export const updateCustomerSchema = {
  tags: ['admin'],
  summary: 'Update a customer (fields given replace, settings merge)',
  security,
  body: customerPatchSchema,
  response: { 200: customerSchema, ...errors },
};

export function updateCustomer(gw: Gateway) {
  return async (req: FastifyRequest<{ Params: { id: string }; Body: Omit<CustomerInput, 'id' | 'accountSid'> }>) => {
    const c = await tenancyCall(() => update(gw.deps.stores, req.params.id, req.body));
    gw.tenancyChanged();
    return redacted(c);
  };
}
