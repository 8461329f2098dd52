// UpdateCall (POST /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json): a live call redirected
// to new TwiML says something new, so `Twiml` is screened like a new call's before the update is
// forwarded. A call being updated cannot wait in the review queue: held content is refused.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Message } from '../../core/types.js';
import type { Gateway } from '../gateway.js';
import { authenticate } from './authenticate.js';
import { callScreenable } from './call-content.js';
import { forwardedCallFields } from './call-proxy.js';
import { encodeForm } from './upstream.js';
import { checkedForm, paramSpec } from './form-params.js';
import { TwilioRefusal, twilioHandler } from './refusal.js';
import { first } from './resources.js';
import { refusalFor, relay } from './send-screening.js';
import { upstreamAccount } from './passthrough.js';

const PARAMS = paramSpec([
  'Url',
  'Method',
  'Status',
  'FallbackUrl',
  'FallbackMethod',
  'StatusCallback',
  'StatusCallbackMethod',
  'Twiml',
  'TimeLimit',
]);

export type ResourceRequest = FastifyRequest<{ Params: { AccountSid: string; Sid: string } }>;

export function updateCall(gw: Gateway) {
  return twilioHandler(async (req: ResourceRequest, reply: FastifyReply) => {
    const principal = await authenticate(gw, req, req.params.AccountSid);
    const fields = checkedForm(req.body, PARAMS);
    const customer = principal.customer;
    if (first(fields, 'Twiml') !== undefined) {
      const content = callScreenable(fields);
      if ('error' in content) throw new TwilioRefusal(content.error, content.detail);
      const message: Message = {
        id: req.params.Sid,
        customer: customer.id,
        channel: 'voice',
        from: '',
        to: '',
        body: content.body,
        timestamp: new Date().toISOString(),
      };
      if (principal.endUser !== undefined) message.endUser = principal.endUser;
      const decision = gw.screen(message);
      gw.metrics.countDecision(decision, 'voice', 'twilio');
      const logged = gw.decisions.record(decision, message, customer);
      if (logged !== null) await logged;
      reply.header('x-warden-decision', decision.id);
      if (decision.action !== 'allow') throw refusalFor(decision);
    }
    const res = await gw.upstream.send({
      customer,
      operation: 'update-call',
      method: 'POST',
      path: `/2010-04-01/Accounts/${upstreamAccount(req.params.AccountSid, customer)}/Calls/${req.params.Sid}.json`,
      contentType: 'application/x-www-form-urlencoded',
      body: encodeForm(forwardedCallFields(gw, customer, fields, req.params.Sid, true)),
      accept: 'application/json',
    });
    return relay(reply, res);
  });
}
