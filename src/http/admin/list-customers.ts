// GET /v1/admin/customers: every customer, secrets redacted.

import type { Gateway } from '../gateway.js';
import { customerSchema, errors, security } from './schemas.js';
import { redacted } from './tenancy.js';

export const listCustomersSchema = {
  tags: ['admin'],
  summary: 'List customers',
  security,
  response: { 200: { type: 'object', properties: { customers: { type: 'array', items: customerSchema } } }, ...errors },
};

export function listCustomers(gw: Gateway) {
  return async () => ({ customers: (await gw.deps.stores.tenancy.listCustomers()).map(redacted) });
}
