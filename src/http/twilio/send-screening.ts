// What CreateMessage and CreateCall share once their parameters are read: the per-customer send
// limit, the screen (core decision plus the gateway's sender and country checks), the decision
// log, and the outcome: forwarded upstream, refused with Twilio's error, or held for review.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACTION_SEVERITY, type Decision, type Message, type Reason } from '../../core/types.js';
import { canonicalAddress } from '../../core/phone-number.js';
import type { CustomerRecord, HeldItemInput } from '../../store/types.js';
import type { Principal } from '../credentials.js';
import type { Gateway } from '../gateway.js';
import { destinationAllowed } from './countries.js';
import { TwilioRefusal } from './refusal.js';
import { callResource, first, messageResource, type FormFields } from './resources.js';
import { errorForClause, topReason } from './twilio-errors.js';
import { UpstreamClient, type UpstreamResponse } from './upstream.js';

export type SendKind = 'message' | 'call';

/** A send read from its parameters, ready to screen. */
export interface SendRequest {
  kind: SendKind;
  principal: Principal;
  /** The path's AccountSid (the app's own). */
  accountSid: string;
  /** The parameters as checked; forwarded re-encoded as `form`. */
  fields: FormFields;
  form: string;
  message: Message;
}

function gatewayReason(clause: string, rule: string, detail: string, evidence?: Reason['evidence']): Reason {
  const r: Reason = { clause, rule, weight: 0, detail, action: 'block' };
  if (evidence !== undefined) r.evidence = evidence;
  return r;
}

/** Adds the gateway's own checks (sender ownership, destination country) to the core's decision. */
export function withGatewayChecks(decision: Decision, message: Message, customer: CustomerRecord): Decision {
  const extra: Reason[] = [];
  const sender = message.from;
  const senders = customer.senders ?? [];
  if (senders.length > 0 && !senders.includes(sender) && !senders.includes(canonicalAddress(sender) ?? sender)) {
    extra.push(gatewayReason('identity.falsification.sender', 'gateway.sender-not-owned', `sender ${sender} is not one of the customer's senders`, { start: 0, end: sender.length, text: sender, field: 'from' }));
  }
  if (!destinationAllowed(message.to, customer.settings?.allowedCountries)) {
    extra.push(gatewayReason('country.requirements', 'gateway.country-not-allowed', `destination ${message.to} is outside the customer's allowed countries`));
  }
  if (extra.length === 0) return decision;
  // Gateway refusals are decided before content: they lead the reasons so they pick the error code.
  return { ...decision, action: 'block', reasons: [...extra, ...decision.reasons] };
}

export function refusalFor(decision: Decision): TwilioRefusal {
  const top = decision.reasons.find((r) => r.rule.startsWith('gateway.')) ?? topReason(decision);
  return new TwilioRefusal(errorForClause(top?.clause), top ? `${top.clause}: ${top.detail}` : undefined);
}

export function relay(reply: FastifyReply, res: UpstreamResponse): FastifyReply {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
  return reply.send(res.body);
}

/** Takes a token of the customer's send limit (shared by every node); fails open when the counters are down. */
export async function takeSendToken(gw: Gateway, req: FastifyRequest, customer: CustomerRecord): Promise<void> {
  const limit = gw.options.customerSendLimit;
  if (limit === false) return;
  let r: { allowed: boolean; retryAfterMs: number };
  try {
    r = await gw.deps.stores.counters.take(`send:${customer.id}`, limit.limit, limit.windowMs, Date.now());
  } catch (e) {
    req.log.warn({ err: e }, 'send counter unavailable; failing open');
    return;
  }
  if (!r.allowed) throw new TwilioRefusal('tooManyRequests', `more than ${limit.limit} sends in ${limit.windowMs} ms`, Math.max(1, Math.ceil(r.retryAfterMs / 1000)));
}

/** Screens a send and carries out the decision; the reply is the upstream's, a refusal, or the held resource. */
export async function screenAndSend(gw: Gateway, req: FastifyRequest, reply: FastifyReply, send: SendRequest): Promise<FastifyReply> {
  const { kind, principal, message, fields } = send;
  const customer = principal.customer;
  await takeSendToken(gw, req, customer);
  const decision = withGatewayChecks(gw.screen(message), message, customer);
  gw.metrics.countDecision(decision, message.channel, 'twilio');
  const logged = gw.decisions.record(decision, message, customer);
  if (logged !== null) await logged;
  reply.header('x-warden-decision', decision.id);

  if (decision.action === 'block') throw refusalFor(decision);
  if (decision.action === 'throttle') throw new TwilioRefusal('tooManyRequests', 'the policy throttled this sender', decision.retryAfter ?? 60);
  if (decision.action === 'review') {
    const held: HeldItemInput = {
      sid: message.id, kind, customer: customer.id, accountSid: send.accountSid, fields: { ...fields }, raw: send.form, decision, heldAt: new Date().toISOString(),
    };
    if (principal.endUser !== undefined) held.endUser = principal.endUser;
    const cb = first(fields, 'StatusCallback');
    if (cb) held.statusCallback = cb;
    // Durable (committed, shared by every node) before the app is told `accepted`.
    await gw.deps.stores.review.hold(held);
    const resource = kind === 'message' ? messageResource(send.accountSid, message.id, fields, 'accepted') : callResource(send.accountSid, message.id, fields, 'queued');
    return reply.code(201).send(resource);
  }
  if (ACTION_SEVERITY[decision.action] !== 0) throw refusalFor(decision);
  const res = await gw.upstream.send({
    customer,
    operation: kind === 'message' ? 'create-message' : 'create-call',
    method: 'POST',
    path: `/2010-04-01/Accounts/${UpstreamClient.accountSid(customer)}/${kind === 'message' ? 'Messages' : 'Calls'}.json`,
    contentType: 'application/x-www-form-urlencoded',
    body: send.form,
    accept: 'application/json',
  });
  return relay(reply, res);
}
