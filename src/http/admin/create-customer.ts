// POST /v1/admin/customers: a new customer (201, secrets redacted); credentials are issued apart.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { tenancyCall } from './http-errors.js';
import { customerInputSchema, customerSchema, errors, security } from './schemas.js';
import { createCustomer as create, redacted, type CustomerInput } from './tenancy.js';

export const createCustomerSchema = {
  tags: ['admin'],
  summary: 'Create a customer',
  security,
  body: { ...customerInputSchema, required: ['id'] },
  response: { 201: customerSchema, ...errors },
};

export function createCustomer(gw: Gateway) {
  return async (req: FastifyRequest<{ Body: CustomerInput }>, reply: FastifyReply) => {
    const c = await tenancyCall(() => create(gw.deps.stores, req.body));
    gw.tenancyChanged();
    return reply.code(201).send(redacted(c));
  };
}
