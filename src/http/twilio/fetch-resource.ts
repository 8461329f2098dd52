// FetchMessage and FetchCall (GET .../Messages/{Sid}.json, .../Calls/{Sid}.json). A message held
// for review is Warden's own until released (the review queue, shared by every node); a refused
// one stays Warden's, failed (canceled for a call) with the refusal's error code. Everything else
// is the upstream's, passed through.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { authenticate } from './authenticate.js';
import { passthrough } from './passthrough.js';
import { twilioHandler } from './refusal.js';
import { callResource, messageResource } from './resources.js';
import { TWILIO_ERRORS } from './twilio-errors.js';
import type { ResourceRequest } from './update-call.js';

export function fetchResource(gw: Gateway) {
  const forward = passthrough(gw, 'read');
  return twilioHandler(async (req: ResourceRequest, reply: FastifyReply) => {
    const principal = await authenticate(gw, req, req.params.AccountSid);
    const held = await gw.deps.stores.review.get(req.params.Sid, principal.customer.id);
    if (held === null || held.state === 'released') return forward(req, reply);
    const isMessage = held.kind === 'message';
    if (held.state !== 'refused') return isMessage ? messageResource(held.accountSid, held.sid, held.fields, 'accepted') : callResource(held.accountSid, held.sid, held.fields, 'queued');
    if (!isMessage) return callResource(held.accountSid, held.sid, held.fields, 'canceled');
    const code = held.errorCode ?? null;
    const spec = Object.values(TWILIO_ERRORS).find((e) => e.code === code);
    return { ...messageResource(held.accountSid, held.sid, held.fields, 'failed'), error_code: code, error_message: spec?.message ?? null };
  });
}
