// UpdateMessage (POST /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json). Twilio takes two
// updates: redaction (Body set to '') and canceling a scheduled message (Status=canceled).
// Neither carries content, so they are forwarded; anything else could, and is refused. A message
// Warden scheduled itself is canceled here (scheduled -> canceled, exclusive with its send); a
// message Warden answers for (held, refused, canceled) is not the upstream's to change and cannot
// be canceled (30409); one Warden forwarded after answering it is updated upstream by its upstream SID.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { authenticate } from './authenticate.js';
import { checkedForm, forwardedForm, paramSpec } from './form-params.js';
import { TwilioRefusal, twilioHandler } from './refusal.js';
import { first } from './resources.js';
import { relay } from './send-screening.js';
import { asAppResource, ownedResource } from './message-map.js';
import { upstreamAccount } from './passthrough.js';
import type { ResourceRequest } from './update-call.js';

const PARAMS = paramSpec(['Body', 'Status']);

export function updateMessage(gw: Gateway) {
  return twilioHandler(async (req: ResourceRequest, reply: FastifyReply) => {
    const principal = await authenticate(gw, req, req.params.AccountSid);
    const fields = checkedForm(req.body, PARAMS);
    const body = first(fields, 'Body');
    const status = first(fields, 'Status');
    if (body === undefined && status === undefined) throw new TwilioRefusal('invalidUpdate', 'give Body or Status');
    if (body !== undefined && body !== '') throw new TwilioRefusal('invalidUpdate', "Body may only be set to '' (redaction)");
    if (status !== undefined && status !== 'canceled') throw new TwilioRefusal('invalidUpdate', 'Status may only be set to canceled');
    const customer = principal.customer;
    const messages = gw.deps.stores.messages;
    const mapped = await messages.get(req.params.Sid, customer.id);
    const owned = mapped !== null && mapped.origin !== 'forwarded' && mapped.accountSid === req.params.AccountSid ? mapped : null;
    if (owned !== null && owned.upstreamSid === undefined) {
      if (status !== 'canceled' || body !== undefined)
        throw new TwilioRefusal('invalidUpdate', 'this message has not been sent; only Status=canceled applies');
      const canceled = await messages.transition(owned.sid, ['scheduled'], { status: 'canceled', at: new Date().toISOString() });
      if (canceled === null)
        throw new TwilioRefusal('notCancelable', `its status is ${(await messages.get(owned.sid))?.status ?? 'unknown'}`);
      // The job finds the message canceled if it runs anyway (it was taken at this instant).
      await gw.deps.stores.scheduler.cancel(owned.sid);
      return ownedResource(canceled);
    }
    // Warden sent it at SendAt as an immediate send: it was never scheduled upstream. (A held
    // message is the upstream's to cancel once released: it was forwarded with its schedule.)
    if (owned !== null && owned.origin === 'scheduled' && status === 'canceled')
      throw new TwilioRefusal('notCancelable', `its status is ${owned.status}`);
    const res = await gw.upstream.send({
      customer,
      operation: 'update-message',
      method: 'POST',
      path: `/2010-04-01/Accounts/${upstreamAccount(req.params.AccountSid, customer)}/Messages/${owned?.upstreamSid ?? req.params.Sid}.json`,
      contentType: 'application/x-www-form-urlencoded',
      body: forwardedForm(fields),
      accept: 'application/json',
    });
    if (owned === null || res.status !== 200) return relay(reply, res);
    try {
      return { ...asAppResource(JSON.parse(res.body.toString('utf8')) as Record<string, unknown>, owned), account_sid: owned.accountSid };
    } catch {
      return relay(reply, res);
    }
  });
}
