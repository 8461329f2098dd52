// CreateCall (POST /2010-04-01/Accounts/{AccountSid}/Calls.json): authenticate, check the
// parameters, screen what the call will say, then forward, refuse or hold (send-screening.ts).

import type { FastifyReply } from 'fastify';
import { canonicalRecipient } from '../../core/phone-number.js';
import type { Message } from '../../core/types.js';
import { newSid } from '../credentials.js';
import type { Gateway } from '../gateway.js';
import { parseTargetUrl } from '../egress/egress-client.js';
import { authenticate } from './authenticate.js';
import { callScreenable } from './call-content.js';
import type { AccountRequest } from './create-message.js';
import { forwardedCallFields } from './call-proxy.js';
import { encodeForm } from './upstream.js';
import { checkedForm, paramSpec } from './form-params.js';
import { TWILIO_OAI_SUBSET } from './oai-subset.js';
import { TwilioRefusal, twilioHandler } from './refusal.js';
import { first, type FormFields } from './resources.js';
import { screenAndSend } from './send-screening.js';

const PARAMS = paramSpec(Object.keys(TWILIO_OAI_SUBSET.CreateCall.request.properties), [
  'StatusCallbackEvent',
  'RecordingStatusCallbackEvent',
]);

export function createCall(gw: Gateway) {
  return twilioHandler(async (req: AccountRequest, reply: FastifyReply) => {
    const principal = await authenticate(gw, req, req.params.AccountSid);
    const fields = checkedForm(req.body, PARAMS);
    const to = first(fields, 'To');
    const from = first(fields, 'From');
    if (!to) throw new TwilioRefusal('missingTo');
    const callback = first(fields, 'StatusCallback');
    if (callback && parseTargetUrl(callback) === null) throw new TwilioRefusal('invalidStatusCallback');
    if (!from) throw new TwilioRefusal('missingFrom');
    if (!first(fields, 'Twiml') && !first(fields, 'Url') && !first(fields, 'ApplicationSid')) throw new TwilioRefusal('missingCallContent');
    const content = callScreenable(fields);
    if ('error' in content) throw new TwilioRefusal(content.error, content.detail);
    const recipient = canonicalRecipient(to, from);
    if (recipient === null) throw new TwilioRefusal('invalidTo', `"${to.slice(0, 40)}"`);
    const message: Message = {
      id: newSid('CA'),
      customer: principal.customer.id,
      channel: 'voice',
      from,
      to: recipient,
      body: content.body,
      timestamp: new Date().toISOString(),
    };
    if (principal.endUser !== undefined) message.endUser = principal.endUser;
    return screenAndSend(gw, req, reply, {
      kind: 'call',
      principal,
      accountSid: req.params.AccountSid,
      fields,
      ...forwarded(gw, principal.customer, fields, message.id),
      message,
    });
  });
}

/** What is forwarded upstream: the screened parameters, the call's URLs pointed at the TwiML proxy. */
function forwarded(
  gw: Gateway,
  customer: Parameters<typeof forwardedCallFields>[1],
  fields: FormFields,
  sid: string,
): { form: string; forwardFields: FormFields } {
  const forwardFields = forwardedCallFields(gw, customer, fields, sid, false);
  return { form: encodeForm(forwardFields), forwardFields };
}
