// The provider's status-callback webhook (POST /twilio/status/{customerId}): verified, claimed
// once per (MessageSid or CallSid, status) so a replay is not relayed twice, and relayed to the
// customer's webhook.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { formFields } from './form.js';
import { first } from './resources.js';
import { claimEvent, eventSid, forwardToCustomer, verifiedCustomer, type WebhookRequest } from './webhook-relay.js';

export function statusWebhook(gw: Gateway) {
  return async (req: WebhookRequest, reply: FastifyReply) => {
    const customer = await verifiedCustomer(gw, req);
    if (customer === null) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'bad-signature' });
      return reply.code(403).type('text/plain').send('invalid or missing X-Twilio-Signature');
    }
    const fields = formFields(req.body);
    const sid = eventSid(fields, 'MessageSid') ?? eventSid(fields, 'CallSid');
    const status = first(fields, 'MessageStatus') ?? first(fields, 'CallStatus');
    if (sid === undefined || status === undefined || status.length === 0 || status.length > 40) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'bad-request' });
      return reply.code(400).type('text/plain').send('a status callback names one MessageSid or CallSid and its MessageStatus or CallStatus');
    }
    if (!(await claimEvent(gw, customer, `status:${sid}:${status}`))) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'replay' });
      return reply.code(204).send();
    }
    gw.metrics.webhooks.inc({ kind: 'status', outcome: 'accepted' });
    await forwardToCustomer(gw, req.log, customer, fields, 'status');
    return reply.code(204).send();
  };
}
