// The provider's status-callback webhook (POST /twilio/status/{customerId}?ws={Warden's SID}):
// verified, then relayed to the StatusCallback the app gave for that message, under the SID the
// app was given (message-map.ts). Warden puts this URL in place of the app's StatusCallback on
// every forward; a callback for a message Warden has no StatusCallback for is not relayed (Twilio
// sends none when the app gave none), and never goes to the customer's inbound webhook.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { formFields } from './form.js';
import { appSid } from './message-map.js';
import type { FormFields } from './resources.js';
import { relayEvent, verifiedCustomer, type WebhookRequest } from './webhook-relay.js';

export function statusWebhook(gw: Gateway) {
  return async (req: WebhookRequest, reply: FastifyReply) => {
    const customer = await verifiedCustomer(gw, req);
    if (customer === null) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'bad-signature' });
      return reply.code(403).type('text/plain').send('invalid or missing X-Twilio-Signature');
    }
    gw.metrics.webhooks.inc({ kind: 'status', outcome: 'accepted' });
    const query = req.query as { ws?: unknown } | undefined;
    const ws = typeof query?.ws === 'string' ? query.ws : undefined;
    const m = ws !== undefined && ws.length <= 64 ? await gw.deps.stores.messages.get(ws, customer.id) : null;
    if (m === null || m.statusCallback === undefined) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'not-relayed' });
      return reply.code(204).send();
    }
    const fields: FormFields = { ...formFields(req.body), AccountSid: m.accountSid };
    const sid = appSid(m);
    if (m.kind === 'message') {
      fields.MessageSid = sid;
      if (fields.SmsSid !== undefined) fields.SmsSid = sid;
    } else {
      fields.CallSid = sid;
    }
    await relayEvent(gw, req.log, customer, m.statusCallback, fields, 'status');
    return reply.code(204).send();
  };
}
