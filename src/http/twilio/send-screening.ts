// What CreateMessage and CreateCall share once their parameters are read: the per-customer send
// limit, the screen (core decision plus the gateway's sender and country checks), the decision
// log, and the outcome: forwarded upstream, refused with Twilio's error, or held for review.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACTION_SEVERITY, type Decision, type Message, type Reason } from '../../core/types.js';
import { canonicalAddress } from '../../core/phone-number.js';
import type { CustomerRecord, HeldItemInput, MappedMessageInput } from '../../store/types.js';
import type { Principal } from '../credentials.js';
import type { Gateway } from '../gateway.js';
import { destinationAllowed } from './countries.js';
import { TwilioRefusal } from './refusal.js';
import { callResource, first, messageResource, type FormFields } from './resources.js';
import { ownedResource, publicBase, upstreamForm, wardenStatusUrl } from './message-map.js';
import { scheduledAt, SCHEDULE_PARAMS, SEND_MESSAGE_TOPIC, type SendMessageJob } from './scheduled-send.js';
import { errorForClause, topReason, twilioError } from './twilio-errors.js';
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
  /** The parameters forwarded when they are not the screened ones (a call's URLs pointed at the TwiML proxy). */
  forwardFields?: FormFields;
  message: Message;
  /** MessagingServiceSid, when the app gave one beside From: it must be registered too. */
  service?: string;
}

function gatewayReason(clause: string, rule: string, detail: string, evidence?: Reason['evidence']): Reason {
  const r: Reason = { clause, rule, weight: 0, detail, action: 'block' };
  if (evidence !== undefined) r.evidence = evidence;
  return r;
}

/** Adds the gateway's own checks (sender ownership, destination country) to the core's decision. */
export function withGatewayChecks(decision: Decision, message: Message, customer: CustomerRecord, service?: string): Decision {
  const extra: Reason[] = [];
  const senders = customer.senders ?? [];
  // Every sender the send names (From, and a MessagingServiceSid beside it) must be registered.
  for (const sender of service !== undefined && service !== message.from ? [message.from, service] : [message.from]) {
    if (senders.length > 0 && !senders.includes(sender) && !senders.includes(canonicalAddress(sender) ?? sender)) {
      extra.push(
        gatewayReason(
          'identity.falsification.sender',
          'gateway.sender-not-owned',
          `sender ${sender} is not one of the customer's senders`,
          sender === message.from ? { start: 0, end: sender.length, text: sender, field: 'from' } : undefined,
        ),
      );
    }
  }
  if (!destinationAllowed(message.to, customer.settings?.allowedCountries)) {
    extra.push(
      gatewayReason(
        'country.requirements',
        'gateway.country-not-allowed',
        `destination ${message.to} is outside the customer's allowed countries`,
      ),
    );
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
  if (!r.allowed)
    throw new TwilioRefusal(
      'tooManyRequests',
      `more than ${limit.limit} sends in ${limit.windowMs} ms`,
      Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
    );
}

/** How a content refusal reaches this customer's apps (CustomerSettings.refusalMode). */
function refusesAsync(customer: CustomerRecord, decision: Decision, kind: SendKind): boolean {
  return kind === 'message' && customer.settings?.refusalMode === 'async' && refusalFor(decision).error === 'contentFiltered';
}

/**
 * Screens a send and carries out the decision; the reply is the upstream's, a refusal, or a
 * resource of Warden's (held, scheduled, or refused after acceptance). Every SID the app is given
 * is recorded in the message map before the reply (message-map.ts).
 */
export async function screenAndSend(gw: Gateway, req: FastifyRequest, reply: FastifyReply, send: SendRequest): Promise<FastifyReply> {
  const { kind, principal, message, fields } = send;
  const customer = principal.customer;
  const sendAt = kind === 'message' ? scheduledAt(fields) : null;
  await takeSendToken(gw, req, customer);
  const decision = withGatewayChecks(gw.screen(message), message, customer, send.service);
  gw.metrics.countDecision(decision, message.channel, 'twilio');
  const logged = gw.decisions.record(decision, message, customer);
  if (logged !== null) await logged;
  reply.header('x-warden-decision', decision.id);

  const acceptedAt = new Date().toISOString();
  const statusCallback = kind === 'message' ? first(fields, 'StatusCallback') : undefined;
  const base = publicBase(gw, req);
  // The upstream reports status to Warden, which relays it to the app under the app's SID.
  const statusUrl = statusCallback !== undefined && base !== null ? wardenStatusUrl(base, customer.id, message.id) : null;
  const owned = (origin: MappedMessageInput['origin'], status: string, extra: Partial<MappedMessageInput> = {}): MappedMessageInput => ({
    sid: message.id,
    customer: customer.id,
    accountSid: send.accountSid,
    kind,
    origin,
    createdAt: acceptedAt,
    status,
    fields: { ...fields },
    ...(statusCallback !== undefined ? { statusCallback } : {}),
    ...extra,
  });

  if (decision.action === 'block' && refusesAsync(customer, decision, kind))
    return refuseAfterAcceptance(gw, reply, send, decision, owned('refused', 'failed'), acceptedAt);
  if (decision.action === 'block') throw refusalFor(decision);
  if (decision.action === 'throttle')
    throw new TwilioRefusal('tooManyRequests', 'the policy throttled this sender', decision.retryAfter ?? 60);
  if (decision.action === 'review') {
    const held: HeldItemInput = {
      sid: message.id,
      kind,
      customer: customer.id,
      accountSid: send.accountSid,
      fields: { ...fields },
      raw: statusUrl !== null ? upstreamForm(send.forwardFields ?? fields, statusUrl) : send.form,
      decision,
      heldAt: acceptedAt,
    };
    if (principal.endUser !== undefined) held.endUser = principal.endUser;
    const cb = first(fields, 'StatusCallback');
    if (cb) held.statusCallback = cb;
    // Durable (committed, shared by every node) before the app is told `accepted`.
    await gw.deps.stores.review.hold(held);
    await gw.deps.stores.messages.put(owned('held', kind === 'message' ? 'accepted' : 'queued'));
    const resource =
      kind === 'message'
        ? messageResource(send.accountSid, message.id, fields, 'accepted', new Date(acceptedAt))
        : callResource(send.accountSid, message.id, fields, 'queued', new Date(acceptedAt));
    return reply.code(201).send(resource);
  }
  if (ACTION_SEVERITY[decision.action] !== 0) throw refusalFor(decision);
  if (sendAt !== null) {
    const m = await gw.deps.stores.messages.put(owned('scheduled', 'scheduled', { sendAt }));
    const job: SendMessageJob = { sid: message.id, form: upstreamForm(fields, statusUrl, SCHEDULE_PARAMS) };
    await gw.deps.stores.scheduler.schedule({
      id: message.id,
      topic: SEND_MESSAGE_TOPIC,
      customer: customer.id,
      dueAt: sendAt,
      payload: JSON.stringify(job),
    });
    return reply.code(201).send(ownedResource(m));
  }
  const res = await gw.upstream.send({
    customer,
    operation: kind === 'message' ? 'create-message' : 'create-call',
    method: 'POST',
    path: `/2010-04-01/Accounts/${UpstreamClient.accountSid(customer)}/${kind === 'message' ? 'Messages' : 'Calls'}.json`,
    contentType: 'application/x-www-form-urlencoded',
    body: statusUrl !== null ? upstreamForm(send.forwardFields ?? fields, statusUrl) : send.form,
    accept: 'application/json',
  });
  // The upstream's SID is the app's: recorded so the decision names it and status callbacks find the app's URL.
  const upstreamSid = res.status < 300 ? sidOf(res) : undefined;
  if (upstreamSid !== undefined) {
    // Sent already: a failed write loses only the relay of its status callbacks (and the decision's
    // naming of its SID), never the message.
    const recorded = gw.deps.stores.messages
      .put({ ...owned('forwarded', 'queued', { upstreamSid }), fields: {} })
      .catch((e: unknown) => req.log.error({ err: e, sid: upstreamSid }, 'could not record a forwarded message in the message map'));
    // Only a message with a StatusCallback needs the entry before the app hears back (its status
    // relays look it up); for the others a commit on the reply path would cost every send a disk sync.
    if (statusUrl !== null) await recorded;
  }
  return relay(reply, res);
}

function sidOf(res: UpstreamResponse): string | undefined {
  try {
    const sid = (JSON.parse(res.body.toString('utf8')) as { sid?: unknown }).sid;
    return typeof sid === 'string' ? sid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Twilio's own shape of a content refusal: the message is accepted (201), then fails with 30007,
 * on fetch and in a status callback to the app's StatusCallback. Recorded as a held item refused at
 * once, so the callback is owed durably through the same outbox as a reviewer's refusal.
 */
async function refuseAfterAcceptance(
  gw: Gateway,
  reply: FastifyReply,
  send: SendRequest,
  decision: Decision,
  mapped: MappedMessageInput,
  acceptedAt: string,
): Promise<FastifyReply> {
  const { message, fields, principal } = send;
  const customer = principal.customer;
  const code = twilioError('contentFiltered').code;
  const review = gw.deps.stores.review;
  const held: HeldItemInput = {
    sid: message.id,
    kind: 'message',
    customer: customer.id,
    accountSid: send.accountSid,
    fields: { ...fields },
    raw: send.form,
    decision,
    heldAt: acceptedAt,
  };
  if (principal.endUser !== undefined) held.endUser = principal.endUser;
  if (mapped.statusCallback !== undefined) held.statusCallback = mapped.statusCallback;
  await review.hold(held);
  const callback: FormFields = {
    AccountSid: send.accountSid,
    MessageSid: message.id,
    SmsSid: message.id,
    From: first(fields, 'From') ?? first(fields, 'MessagingServiceSid'),
    To: first(fields, 'To'),
    MessageStatus: 'failed',
    SmsStatus: 'failed',
    ErrorCode: String(code),
    ApiVersion: '2010-04-01',
  };
  // Signed as every callback to the app is (relay-signing.ts): with the secret the app validates with.
  const post =
    mapped.statusCallback !== undefined
      ? gw.callbacks.prepare(mapped.statusCallback, callback, (await gw.signer.secretFor(customer)).secret)
      : undefined;
  await review.refuse(message.id, 'policy', acceptedAt, code, post);
  await gw.deps.stores.messages.put({ ...mapped, errorCode: code });
  reply.code(201).send(messageResource(send.accountSid, message.id, fields, 'accepted', new Date(acceptedAt)));
  // The first attempt once the app has its answer (the outbox retries it, from any node).
  if (post !== undefined && mapped.statusCallback !== undefined)
    void gw.callbacks.deliver(message.id, customer.id, mapped.statusCallback, post);
  return reply;
}
