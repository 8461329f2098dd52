// The admin API: customers, credentials, enforcement and review. Authenticated with the admin
// bearer token (require-admin.ts); disabled entirely when no token is configured. Customer
// credentials never reach these routes. One file per route:
//
//   route                                      file                    what
//   GET    /v1/admin/customers                 list-customers.ts       every customer, secrets redacted
//   POST   /v1/admin/customers                 create-customer.ts      a new customer
//   GET    /v1/admin/customers/{id}            get-customer.ts         one customer
//   PUT    /v1/admin/customers/{id}            update-customer.ts      fields replace, settings merge
//   POST   /v1/admin/customers/{id}/credentials issue-credential.ts   auth token or API key, secret shown once
//   DELETE /v1/admin/credentials/{id}          revoke-credential.ts    revoke a credential
//   POST   /v1/admin/customers/{id}/enforcement record-enforcement.ts warn, throttle, suspend, reinstate
//   GET    /v1/review                          list-review.ts          the review queue
//   POST   /v1/review/{id}                     settle-review.ts        release or refuse, exactly once
//   POST   /v1/review/{id}/callback            resend-callback.ts      send a settled item's callback again
//   POST   /v1/review/{id}/reconcile           reconcile-review.ts     settle an item a dead node left releasing

import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway.js';
import { requireAdmin } from './require-admin.js';
import { createCustomer, createCustomerSchema } from './create-customer.js';
import { getCustomer, getCustomerSchema } from './get-customer.js';
import { issueCredential, issueCredentialSchema } from './issue-credential.js';
import { listCustomers, listCustomersSchema } from './list-customers.js';
import { listReview, listReviewSchema } from './list-review.js';
import { reconcileReview, reconcileReviewSchema } from './reconcile-review.js';
import { recordEnforcement, recordEnforcementSchema } from './record-enforcement.js';
import { resendCallback, resendCallbackSchema } from './resend-callback.js';
import { revokeCredential, revokeCredentialSchema } from './revoke-credential.js';
import { settleReview, settleReviewSchema } from './settle-review.js';
import { updateCustomer, updateCustomerSchema } from './update-customer.js';

export { RECONCILE_AFTER_MS } from './reconcile-review.js';

export async function registerAdmin(app: FastifyInstance, gw: Gateway): Promise<void> {
  app.register(async (admin) => {
    admin.addHook('onRequest', requireAdmin(gw.options.adminToken));
    admin.get('/v1/admin/customers', { schema: listCustomersSchema }, listCustomers(gw));
    admin.post('/v1/admin/customers', { schema: createCustomerSchema }, createCustomer(gw));
    admin.get('/v1/admin/customers/:id', { schema: getCustomerSchema }, getCustomer(gw));
    admin.put('/v1/admin/customers/:id', { schema: updateCustomerSchema }, updateCustomer(gw));
    admin.post('/v1/admin/customers/:id/credentials', { schema: issueCredentialSchema }, issueCredential(gw));
    admin.delete('/v1/admin/credentials/:id', { schema: revokeCredentialSchema }, revokeCredential(gw));
    admin.post('/v1/admin/customers/:id/enforcement', { schema: recordEnforcementSchema }, recordEnforcement(gw));
    admin.get('/v1/review', { schema: listReviewSchema }, listReview(gw));
    admin.post('/v1/review/:id', { schema: settleReviewSchema }, settleReview(gw));
    admin.post('/v1/review/:id/callback', { schema: resendCallbackSchema }, resendCallback(gw));
    admin.post('/v1/review/:id/reconcile', { schema: reconcileReviewSchema }, reconcileReview(gw));
  });
}
