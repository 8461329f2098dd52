// UpdateMessage (POST /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json). Twilio takes two
// updates: redaction (Body set to '') and canceling a scheduled message (Status=canceled).
// Neither carries content, so they are forwarded; anything else could, and is refused.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { authenticate } from './authenticate.js';
import { formFields, isForm } from './form.js';
import { checkParams, forwardedForm, paramSpec } from './form-params.js';
import { TwilioRefusal, twilioHandler } from './refusal.js';
import { first } from './resources.js';
import { relay } from './send-screening.js';
import { upstreamAccount } from './passthrough.js';
import type { ResourceRequest } from './update-call.js';

const PARAMS = paramSpec(['Body', 'Status']);

export function updateMessage(gw: Gateway) {
  return twilioHandler(async (req: ResourceRequest, reply: FastifyReply) => {
    const principal = await authenticate(gw, req, req.params.AccountSid);
    if (!isForm(req.body)) throw new TwilioRefusal('notForm');
    const fields = formFields(req.body);
    checkParams(fields, PARAMS);
    const body = first(fields, 'Body');
    const status = first(fields, 'Status');
    if (body === undefined && status === undefined) throw new TwilioRefusal('invalidUpdate', 'give Body or Status');
    if (body !== undefined && body !== '') throw new TwilioRefusal('invalidUpdate', "Body may only be set to '' (redaction)");
    if (status !== undefined && status !== 'canceled') throw new TwilioRefusal('invalidUpdate', 'Status may only be set to canceled');
    const customer = principal.customer;
    const res = await gw.upstream.send({
      customer, operation: 'update-message', method: 'POST',
      path: `/2010-04-01/Accounts/${upstreamAccount(req.params.AccountSid, customer)}/Messages/${req.params.Sid}.json`,
      contentType: 'application/x-www-form-urlencoded', body: forwardedForm(fields), accept: 'application/json',
    });
    return relay(reply, res);
  });
}
