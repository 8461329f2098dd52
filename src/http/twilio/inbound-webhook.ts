// The provider's incoming-message webhook (POST /twilio/inbound/{customerId}): verified, read for
// consent keywords (STOP, START, HELP), answered with TwiML, relayed to the customer's webhook.

import type { FastifyReply } from 'fastify';
import { canonicalAddress } from '../../core/phone-number.js';
import type { Gateway } from '../gateway.js';
import { formFields } from './form.js';
import { HELP_KEYWORDS, inboundKeyword, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from './keywords.js';
import { first } from './resources.js';
import { twimlResponse } from './twiml-response.js';
import { forwardToCustomer, verifiedCustomer, type WebhookRequest } from './webhook-relay.js';

export function inboundWebhook(gw: Gateway) {
  const stores = gw.deps.stores;
  return async (req: WebhookRequest, reply: FastifyReply) => {
    const customer = await verifiedCustomer(gw, req);
    if (customer === null) {
      gw.metrics.webhooks.inc({ kind: 'inbound', outcome: 'bad-signature' });
      return reply.code(403).type('text/plain').send('invalid or missing X-Twilio-Signature');
    }
    const fields = formFields(req.body);
    // The sender of an inbound message, keyed as sends to it are (the provider sends E.164 already).
    const rawFrom = first(fields, 'From') ?? '';
    const from = canonicalAddress(rawFrom) ?? rawFrom;
    const keyword = inboundKeyword(first(fields, 'Body') ?? '');
    const settings = customer.settings ?? {};
    let autoReply: string | undefined;
    const consent = async (kind: 'opt-out' | 'opt-in') => {
      if (!from) return;
      const ev = await stores.consent.append({ customer: customer.id, recipient: gw.storedRecipient(customer.settings?.hashRecipients, from), kind, source: 'keyword', evidence: keyword, at: new Date().toISOString() });
      await gw.appended('consent', ev.seq);
    };
    if (OPT_OUT_KEYWORDS.has(keyword)) {
      await consent('opt-out');
      autoReply = settings.stopReply;
    } else if (OPT_IN_KEYWORDS.has(keyword)) {
      await consent('opt-in');
    } else if (HELP_KEYWORDS.has(keyword)) {
      autoReply = settings.helpReply;
    }
    gw.metrics.webhooks.inc({ kind: 'inbound', outcome: 'accepted' });
    reply.type('text/xml');
    if (autoReply !== undefined && autoReply !== '') {
      void forwardToCustomer(gw, req.log, customer, fields, 'inbound');
      return twimlResponse(autoReply);
    }
    const res = await forwardToCustomer(gw, req.log, customer, fields, 'inbound');
    if (res && res.status < 300 && /^\s*(<\?xml[^>]*>\s*)?<Response[\s>/]/.test(res.body)) return res.body;
    return twimlResponse();
  };
}
