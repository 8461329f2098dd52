// The provider's status-callback webhook (POST /twilio/status/{customerId}?ws={Warden's SID}):
// verified, claimed once per (MessageSid or CallSid, status) so a replay is not relayed twice,
// then relayed to the StatusCallback the app gave for that message, under the SID the app was
// given (message-map.ts). Warden puts this URL in place of the app's StatusCallback on every
// forward; a callback for a message Warden has no StatusCallback for is not relayed (Twilio sends
// none when the app gave none), and never goes to the customer's inbound webhook.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { formFields } from './form.js';
import { appSid } from './message-map.js';
import { first, type FormFields } from './resources.js';
import { claimEvent, eventSid, relayEvent, verifiedCustomer, type WebhookRequest } from './webhook-relay.js';

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
      return reply
        .code(400)
        .type('text/plain')
        .send('a status callback names one MessageSid or CallSid and its MessageStatus or CallStatus');
    }
    if (!(await claimEvent(gw, customer, `status:${sid}:${status}`))) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'replay' });
      return reply.code(204).send();
    }
    gw.metrics.webhooks.inc({ kind: 'status', outcome: 'accepted' });
    const query = req.query as { ws?: unknown } | undefined;
    const ws = typeof query?.ws === 'string' ? query.ws : undefined;
    const m = ws !== undefined && ws.length <= 64 ? await gw.deps.stores.messages.get(ws, customer.id) : null;
    if (m === null || m.statusCallback === undefined) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'not-relayed' });
      return reply.code(204).send();
    }
    const relayed: FormFields = { ...fields, AccountSid: m.accountSid };
    const own = appSid(m);
    if (m.kind === 'message') {
      relayed.MessageSid = own;
      if (relayed.SmsSid !== undefined) relayed.SmsSid = own;
    } else {
      relayed.CallSid = own;
    }
    await relayEvent(gw, req.log, customer, m.statusCallback, relayed, 'status');
    return reply.code(204).send();
  };
}
