// FetchMessage and FetchCall (GET .../Messages/{Sid}.json, .../Calls/{Sid}.json). A message held
// for review is Warden's own until released (the review queue, shared by every node); a refused
// one stays Warden's, failed (canceled for a call) with the refusal's error code; a scheduled one
// is Warden's until it is sent. Once Warden forwarded one of its own, the upstream's resource is
// fetched by the upstream SID and shown under Warden's (message-map.ts). date_created is the
// instant Warden accepted the message, on every fetch. Everything else is the upstream's, passed through.

import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { authenticate } from './authenticate.js';
import { asAppResource, ownedResource } from './message-map.js';
import { passthrough, upstreamAccount, withAppAccount } from './passthrough.js';
import { twilioHandler } from './refusal.js';
import { callResource, messageResource } from './resources.js';
import { relay } from './send-screening.js';
import { TWILIO_ERRORS } from './twilio-errors.js';
import type { ResourceRequest } from './update-call.js';

const SID = /^[A-Z]{2}[0-9a-f]{32}$/;

export function fetchResource(gw: Gateway) {
  const forward = passthrough(gw, 'read');
  return twilioHandler(async (req: ResourceRequest, reply: FastifyReply) => {
    const principal = await authenticate(gw, req, req.params.AccountSid);
    const customer = principal.customer;
    const mapped = SID.test(req.params.Sid) ? await gw.deps.stores.messages.get(req.params.Sid, customer.id) : null;
    let owned = mapped !== null && mapped.origin !== 'forwarded' && mapped.accountSid === req.params.AccountSid ? mapped : null;
    const held = await gw.deps.stores.review.get(req.params.Sid, customer.id);
    // A release recorded in the review queue but not in the map (held before the map existed).
    if (owned?.upstreamSid === undefined && held?.state === 'released' && held.upstreamSid !== undefined) {
      owned = {
        sid: held.sid,
        customer: held.customer,
        accountSid: held.accountSid,
        kind: held.kind,
        origin: 'held',
        upstreamSid: held.upstreamSid,
        createdAt: held.heldAt,
        updatedAt: held.settledAt ?? held.heldAt,
        status: 'queued',
        fields: held.fields,
      };
    }
    if (owned?.upstreamSid !== undefined) {
      // Forwarded after Warden answered it (released, or sent at SendAt): the upstream's, under Warden's SID.
      const upstreamSid = upstreamAccount(req.params.AccountSid, customer);
      const res = withAppAccount(
        await gw.upstream.send({
          customer,
          operation: 'passthrough',
          method: 'GET',
          accept: 'application/json',
          path: `/2010-04-01/Accounts/${upstreamSid}/${owned.kind === 'message' ? 'Messages' : 'Calls'}/${owned.upstreamSid}.json`,
        }),
        upstreamSid,
        req.params.AccountSid,
      );
      if (res.status !== 200) return relay(reply, res);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return relay(reply, res);
      }
      return { ...asAppResource(body, owned), account_sid: owned.accountSid };
    }
    if (held === null || held.state === 'released') return owned !== null ? ownedResource(owned) : forward(req, reply);
    const isMessage = held.kind === 'message';
    const created = new Date(held.heldAt);
    if (held.state !== 'refused')
      return isMessage
        ? messageResource(held.accountSid, held.sid, held.fields, 'accepted', created)
        : callResource(held.accountSid, held.sid, held.fields, 'queued', created);
    if (!isMessage) return callResource(held.accountSid, held.sid, held.fields, 'canceled', created);
    const code = held.errorCode ?? null;
    const spec = Object.values(TWILIO_ERRORS).find((e) => e.code === code);
    return {
      ...messageResource(held.accountSid, held.sid, held.fields, 'failed', created),
      error_code: code,
      error_message: spec?.message ?? null,
    };
  });
}
