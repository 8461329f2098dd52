// CreateMessage (POST /2010-04-01/Accounts/{AccountSid}/Messages.json): authenticate, check the
// parameters, screen, then forward, refuse or hold (send-screening.ts).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { canonicalRecipient } from '../../core/phone-number.js';
import type { Message } from '../../core/types.js';
import { newSid } from '../credentials.js';
import type { Gateway } from '../gateway.js';
import { parseTargetUrl } from '../egress/egress-client.js';
import { authenticate } from './authenticate.js';
import { checkedForm, forwardedForm, paramSpec } from './form-params.js';
import { TWILIO_OAI_SUBSET } from './oai-subset.js';
import { TwilioRefusal, twilioHandler } from './refusal.js';
import { all, first } from './resources.js';
import { screenAndSend } from './send-screening.js';
import { templatedMessageText } from './content-template.js';

const PARAMS = paramSpec(Object.keys(TWILIO_OAI_SUBSET.CreateMessage.request.properties), ['MediaUrl', 'PersistentAction']);

export type AccountRequest = FastifyRequest<{ Params: { AccountSid: string } }>;

export function createMessage(gw: Gateway) {
  return twilioHandler(async (req: AccountRequest, reply: FastifyReply) => {
    const principal = await authenticate(gw, req, req.params.AccountSid);
    const fields = checkedForm(req.body, PARAMS);
    const to = first(fields, 'To');
    const from = first(fields, 'From');
    const service = first(fields, 'MessagingServiceSid');
    if (!to) throw new TwilioRefusal('missingTo');
    const callback = first(fields, 'StatusCallback');
    if (callback && parseTargetUrl(callback) === null) throw new TwilioRefusal('invalidStatusCallback');
    if (!from && !service) throw new TwilioRefusal('missingFrom');
    const media = all(fields, 'MediaUrl');
    const body = first(fields, 'Body') ?? '';
    if (body === '' && media.length === 0 && !first(fields, 'ContentSid')) throw new TwilioRefusal('missingBody');
    if (body.length > 1600) throw new TwilioRefusal('bodyTooLong');
    const sender = (from ?? service) as string;
    // Screened (opt-outs, countries) by the number in its one canonical form.
    const recipient = canonicalRecipient(to, sender);
    if (recipient === null) throw new TwilioRefusal('invalidTo', `"${to.slice(0, 40)}"`);
    // A template's words are screened filled in (or the variables alone when the template is unknown).
    let screened = body;
    const contentSid = first(fields, 'ContentSid');
    if (contentSid) {
      const t = await templatedMessageText(gw.contentTemplates, principal.customer, contentSid, first(fields, 'ContentVariables'));
      if ('error' in t) throw new TwilioRefusal('contentVariablesInvalid', t.error);
      screened = [body, t.text].filter((x) => x !== '').join('\n');
    }
    const message: Message = {
      id: newSid(media.length > 0 ? 'MM' : 'SM'),
      customer: principal.customer.id,
      channel: media.length > 0 ? 'mms' : 'sms',
      from: sender,
      to: recipient,
      body: screened,
      timestamp: new Date().toISOString(),
    };
    if (principal.endUser !== undefined) message.endUser = principal.endUser;
    if (media.length > 0) message.mediaUrls = media;
    return screenAndSend(gw, req, reply, {
      kind: 'message',
      principal,
      accountSid: req.params.AccountSid,
      fields,
      form: forwardedForm(fields),
      message,
      ...(service ? { service } : {}),
    });
  });
}
