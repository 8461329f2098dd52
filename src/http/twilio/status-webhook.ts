// The provider's status-callback webhook (POST /twilio/status/{customerId}): verified and relayed
// to the customer's webhook.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { formFields } from './form.js';
import { forwardToCustomer, verifiedCustomer, type WebhookRequest } from './webhook-relay.js';

export function statusWebhook(gw: Gateway) {
  return async (req: WebhookRequest, reply: FastifyReply) => {
    const customer = await verifiedCustomer(gw, req);
    if (customer === null) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'bad-signature' });
      return reply.code(403).type('text/plain').send('invalid or missing X-Twilio-Signature');
    }
    gw.metrics.webhooks.inc({ kind: 'status', outcome: 'accepted' });
    await forwardToCustomer(gw, req.log, customer, formFields(req.body), 'status');
    return reply.code(204).send();
  };
}
