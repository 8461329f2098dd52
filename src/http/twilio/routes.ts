// The Twilio-compatible API: an app using the official `twilio` package points its base URL at
// Warden and changes nothing else. CreateMessage and CreateCall are screened and then forwarded,
// refused with Twilio's own error codes, or held for review; inbound webhooks and status callbacks
// are verified, keyword-processed and relayed; every other /2010-04-01 call passes through.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Decision, Message, Reason } from '../../core/types.js';
import { ACTION_SEVERITY } from '../../core/types.js';
import { canonicalAddress, canonicalRecipient } from '../../core/phone-number.js';
import type { CallbackPost, CustomerRecord, HeldItemInput } from '../../store/types.js';
import { newSid, VerificationThrottled, type Principal } from '../credentials.js';
import type { Gateway } from '../gateway.js';
import { destinationAllowed } from './countries.js';
import { formFields, isForm, rawForm } from './form.js';
import { all, callResource, first, messageResource, type FormFields } from './resources.js';
import { computeSignature, verifySignature } from './signature.js';
import { TWILIO_ERRORS, errorForClause, topReason, twilioError, type TwilioErrorName } from './twilio-errors.js';
import { TWILIO_OAI_SUBSET } from './oai-subset.js';
import { UpstreamClient, UpstreamError, encodeForm, type UpstreamResponse } from './upstream.js';
import { parseTargetUrl } from '../egress/egress-client.js';

export function isTwilioPath(url: string): boolean {
  return url.startsWith('/2010-04-01/') || url.startsWith('/twilio/');
}

// REVOKE and OPT OUT are among the words the FCC's 2024 consent-revocation rules name next to the
// classic six (stop, quit, end, revoke, opt out, cancel, unsubscribe).
export const OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
export const OPT_IN_KEYWORDS = new Set(['START', 'UNSTOP', 'YES']);
export const HELP_KEYWORDS = new Set(['HELP', 'INFO']);

/**
 * The keyword an inbound message is, if its whole body is one: compatibility forms folded
 * (full-width "ＳＴＯＰ"), case, surrounding quotes and trailing punctuation ignored, and the
 * spaces inside dropped ("Opt out", "STOP ALL").
 */
export function inboundKeyword(body: string): string {
  return body.normalize('NFKC').trim().toUpperCase().replace(/^["'\u201c\u2018]+|["'\u201d\u2019.!?]+$/g, '').replace(/\s+/g, '');
}

const TWILIO_BODY_LIMIT = 64 * 1024;

class TwilioRefusal extends Error {
  constructor(readonly error: TwilioErrorName, readonly detail?: string, readonly retryAfter?: number) {
    super(error);
  }
}

function refuse(reply: FastifyReply, e: TwilioRefusal): FastifyReply {
  const body = twilioError(e.error, e.detail);
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  return reply.code(body.status).send(body);
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

function twiml(reply?: string): string {
  return reply ? `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${escapeXml(reply)}</Message></Response>` : '<?xml version="1.0" encoding="UTF-8"?><Response/>';
}

/** Authenticates the request and checks the path's AccountSid belongs to the credential. */
async function authenticate(gw: Gateway, req: FastifyRequest, pathSid: string | undefined): Promise<Principal> {
  let p: Principal | null;
  try {
    p = await gw.auth.fromHeader(req.headers.authorization, req.ip);
  } catch (e) {
    if (e instanceof VerificationThrottled) throw new TwilioRefusal('tooManyRequests', e.message, e.retryAfterSeconds);
    throw e;
  }
  if (p === null) throw new TwilioRefusal('auth');
  if (pathSid !== undefined && pathSid !== p.customer.accountSid && pathSid !== p.endUser) throw new TwilioRefusal('auth', 'the AccountSid in the URL does not belong to these credentials');
  return p;
}

function gatewayReason(clause: string, rule: string, detail: string, evidence?: Reason['evidence']): Reason {
  const r: Reason = { clause, rule, weight: 0, detail, action: 'block' };
  if (evidence !== undefined) r.evidence = evidence;
  return r;
}

/** Adds the gateway's own checks (sender ownership, destination country) to the core's decision. */
function withGatewayChecks(decision: Decision, message: Message, customer: CustomerRecord, sender: string): Decision {
  const extra: Reason[] = [];
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

function refusalFor(decision: Decision): TwilioRefusal {
  const top = decision.reasons.find((r) => r.rule.startsWith('gateway.')) ?? topReason(decision);
  return new TwilioRefusal(errorForClause(top?.clause), top ? `${top.clause}: ${top.detail}` : undefined);
}

function relay(reply: FastifyReply, res: { status: number; headers: Record<string, string>; body: Buffer }): FastifyReply {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
  return reply.send(res.body);
}

export async function registerTwilio(app: FastifyInstance, gw: Gateway): Promise<void> {
  const stores = gw.deps.stores;
  app.addHook('onReady', async () => gw.callbacks.start());
  app.addHook('onClose', async () => gw.callbacks.close());
  const createSchema = (op: 'CreateMessage' | 'CreateCall', summary: string) => ({
    tags: ['twilio'],
    summary,
    description: 'Twilio-compatible. Screened, then forwarded to the customer\'s upstream (response relayed unchanged), refused with a Twilio error, or held for review (201 with status accepted).',
    security: [{ basicAuth: [] }],
    consumes: ['application/x-www-form-urlencoded'],
    params: { type: 'object', properties: { AccountSid: { type: 'string' } }, required: ['AccountSid'] },
    body: TWILIO_OAI_SUBSET[op].request as unknown as Record<string, unknown>,
    response: {
      201: TWILIO_OAI_SUBSET[op].response201 as unknown as Record<string, unknown>,
      '4xx': { $ref: 'twilioError#' },
    },
  });
  app.addSchema({
    $id: 'twilioError',
    type: 'object',
    properties: { code: { type: 'integer' }, message: { type: 'string' }, more_info: { type: 'string' }, status: { type: 'integer' } },
  });

  const create = (kind: 'message' | 'call') => async (req: FastifyRequest<{ Params: { AccountSid: string } }>, reply: FastifyReply) => {
    try {
      const principal = await authenticate(gw, req, req.params.AccountSid);
      const customer = principal.customer;
      if (!isForm(req.body)) throw new TwilioRefusal('missingTo', 'send the parameters form-encoded');
      const fields = formFields(req.body);
      const to = first(fields, 'To');
      const from = first(fields, 'From');
      const service = first(fields, 'MessagingServiceSid');
      if (!to) throw new TwilioRefusal('missingTo');
      if (first(fields, 'StatusCallback') && parseTargetUrl(first(fields, 'StatusCallback') as string) === null) throw new TwilioRefusal('invalidStatusCallback');
      let body: string;
      const media = kind === 'message' ? all(fields, 'MediaUrl') : [];
      if (kind === 'message') {
        if (!from && !service) throw new TwilioRefusal('missingFrom');
        body = first(fields, 'Body') ?? '';
        if (body === '' && media.length === 0 && !first(fields, 'ContentSid')) throw new TwilioRefusal('missingBody');
        if (body.length > 1600) throw new TwilioRefusal('bodyTooLong');
      } else {
        if (!from) throw new TwilioRefusal('missingFrom');
        const twimlText = first(fields, 'Twiml');
        if (!twimlText && !first(fields, 'Url') && !first(fields, 'ApplicationSid')) throw new TwilioRefusal('missingCallContent');
        // Screen what the call will say: TwiML text without its tags.
        body = (twimlText ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 10_000);
      }

      const limit = gw.options.customerSendLimit;
      if (limit !== false) {
        try {
          const r = await stores.counters.take(`send:${customer.id}`, limit.limit, limit.windowMs, Date.now());
          if (!r.allowed) throw new TwilioRefusal('tooManyRequests', `more than ${limit.limit} sends in ${limit.windowMs} ms`, Math.max(1, Math.ceil(r.retryAfterMs / 1000)));
        } catch (e) {
          if (e instanceof TwilioRefusal) throw e;
          req.log.warn({ err: e }, 'send counter unavailable; failing open');
        }
      }

      const sender = (from ?? service) as string;
      // Screened (opt-outs, countries) by the number in its one canonical form; the request is
      // forwarded as the app wrote it, which the provider reads as the same number.
      const recipient = canonicalRecipient(to, sender);
      if (recipient === null) throw new TwilioRefusal('invalidTo', `"${to.slice(0, 40)}"`);
      const sid = newSid(kind === 'message' ? (media.length > 0 ? 'MM' : 'SM') : 'CA');
      const message: Message = {
        id: sid,
        customer: customer.id,
        channel: kind === 'call' ? 'voice' : media.length > 0 ? 'mms' : 'sms',
        from: sender,
        to: recipient,
        body,
        timestamp: new Date().toISOString(),
      };
      if (principal.endUser !== undefined) message.endUser = principal.endUser;
      if (media.length > 0) message.mediaUrls = media;
      const decision = withGatewayChecks(gw.screen(message), message, customer, sender);
      gw.metrics.countDecision(decision, message.channel, 'twilio');
      const logged = gw.decisions.record(decision, message, customer);
      if (logged !== null) await logged;
      reply.header('x-warden-decision', decision.id);

      if (decision.action === 'block') throw refusalFor(decision);
      if (decision.action === 'throttle') throw new TwilioRefusal('tooManyRequests', 'the policy throttled this sender', decision.retryAfter ?? 60);
      if (decision.action === 'review') {
        const held: HeldItemInput = {
          sid, kind, customer: customer.id, accountSid: req.params.AccountSid, fields: { ...fields }, raw: rawForm(req.body), decision, heldAt: new Date().toISOString(),
        };
        if (principal.endUser !== undefined) held.endUser = principal.endUser;
        const cb = first(fields, 'StatusCallback');
        if (cb) held.statusCallback = cb;
        // Durable (committed, shared by every node) before the app is told `accepted`.
        await stores.review.hold(held);
        const resource = kind === 'message' ? messageResource(req.params.AccountSid, sid, fields, 'accepted') : callResource(req.params.AccountSid, sid, fields, 'queued');
        return reply.code(201).send(resource);
      }
      if (ACTION_SEVERITY[decision.action] !== 0) throw refusalFor(decision);
      const res = await gw.upstream.send({
        customer,
        operation: kind === 'message' ? 'create-message' : 'create-call',
        method: 'POST',
        path: `/2010-04-01/Accounts/${UpstreamClient.accountSid(customer)}/${kind === 'message' ? 'Messages' : 'Calls'}.json`,
        contentType: 'application/x-www-form-urlencoded',
        body: rawForm(req.body),
        accept: 'application/json',
      });
      return relay(reply, res);
    } catch (e) {
      if (e instanceof TwilioRefusal) return refuse(reply, e);
      if (e instanceof UpstreamError) {
        req.log.warn({ err: e }, 'upstream unavailable');
        return reply.code(503).send(twilioError('upstream'));
      }
      throw e;
    }
  };

  const attach = { attachValidation: true, bodyLimit: TWILIO_BODY_LIMIT } as const;
  app.post('/2010-04-01/Accounts/:AccountSid/Messages.json', { ...attach, schema: createSchema('CreateMessage', 'Send a message (screened)') }, create('message'));
  app.post('/2010-04-01/Accounts/:AccountSid/Calls.json', { ...attach, schema: createSchema('CreateCall', 'Place a call (screened)') }, create('call'));

  // ---- Inbound messages and status callbacks from the provider ---------------------------------

  const webhookUrl = (req: FastifyRequest): string => {
    const base = gw.options.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`;
    return base + req.url;
  };

  async function verifiedCustomer(req: FastifyRequest<{ Params: { customerId: string } }>): Promise<CustomerRecord | null> {
    const id = req.params.customerId;
    if (id.length === 0 || id.length > 100) return null;
    const customer = await stores.tenancy.getCustomer(id);
    const token = customer?.upstream.authToken;
    if (!customer || !token) return null;
    const sig = req.headers['x-twilio-signature'];
    return verifySignature(token, webhookUrl(req), formFields(req.body), typeof sig === 'string' ? sig : undefined) ? customer : null;
  }

  /** Relays a provider event to the customer's webhook, re-signed with the upstream auth token. */
  async function forwardToCustomer(customer: CustomerRecord, fields: FormFields, kind: string): Promise<{ status: number; body: string } | null> {
    if (!customer.webhookUrl) return null;
    const headers: Record<string, string> = {};
    if (customer.upstream.authToken) headers['x-twilio-signature'] = computeSignature(customer.upstream.authToken, customer.webhookUrl, fields);
    try {
      const res = await gw.upstream.postForm(customer.webhookUrl, encodeForm(fields), headers, `webhook-${kind}`);
      gw.metrics.webhooks.inc({ kind, outcome: res.status < 400 ? 'forwarded' : 'customer-error' });
      return res;
    } catch (e) {
      app.log.warn({ err: e, customer: customer.id }, 'customer webhook unreachable');
      gw.metrics.webhooks.inc({ kind, outcome: 'customer-unreachable' });
      return null;
    }
  }

  const webhookSchema = (summary: string) => ({
    tags: ['webhooks'],
    summary,
    params: { type: 'object', properties: { customerId: { type: 'string' } }, required: ['customerId'] },
    consumes: ['application/x-www-form-urlencoded'],
  });

  app.post<{ Params: { customerId: string } }>('/twilio/inbound/:customerId', { schema: webhookSchema('Incoming-message webhook: verifies X-Twilio-Signature, applies STOP/START/HELP keywords, answers TwiML, relays to the customer webhook'), bodyLimit: TWILIO_BODY_LIMIT }, async (req, reply) => {
    const customer = await verifiedCustomer(req);
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
      void forwardToCustomer(customer, fields, 'inbound');
      return twiml(autoReply);
    }
    const res = await forwardToCustomer(customer, fields, 'inbound');
    if (res && res.status < 300 && /^\s*(<\?xml[^>]*>\s*)?<Response[\s>/]/.test(res.body)) return res.body;
    return twiml();
  });

  app.post<{ Params: { customerId: string } }>('/twilio/status/:customerId', { schema: webhookSchema('Status-callback webhook: verifies X-Twilio-Signature and relays the status to the customer webhook'), bodyLimit: TWILIO_BODY_LIMIT }, async (req, reply) => {
    const customer = await verifiedCustomer(req);
    if (customer === null) {
      gw.metrics.webhooks.inc({ kind: 'status', outcome: 'bad-signature' });
      return reply.code(403).type('text/plain').send('invalid or missing X-Twilio-Signature');
    }
    gw.metrics.webhooks.inc({ kind: 'status', outcome: 'accepted' });
    await forwardToCustomer(customer, formFields(req.body), 'status');
    return reply.code(204).send();
  });

  // ---- Everything else under /2010-04-01 passes through ---------------------------------------

  app.all('/2010-04-01/*', { schema: { hide: true } }, async (req, reply) => {
    try {
      const url = req.url;
      const m = /^\/2010-04-01\/Accounts\/([^/.?]+)/.exec(url);
      const principal = await authenticate(gw, req, m?.[1]);
      const customer = principal.customer;
      // Messages held for review are Warden's own until released (the review queue, any node);
      // a refused one stays Warden's, failed (canceled for a call) with the refusal's error code.
      const heldMatch = /^\/2010-04-01\/Accounts\/[^/]+\/(Messages|Calls)\/([A-Z]{2}[0-9a-f]{32})\.json(\?|$)/.exec(url);
      if (heldMatch && req.method === 'GET') {
        const held = await stores.review.get(heldMatch[2], customer.id);
        if (held && held.state !== 'released') {
          const isMessage = held.kind === 'message';
          if (held.state !== 'refused') return isMessage ? messageResource(held.accountSid, held.sid, held.fields, 'accepted') : callResource(held.accountSid, held.sid, held.fields, 'queued');
          if (!isMessage) return callResource(held.accountSid, held.sid, held.fields, 'canceled');
          const code = held.errorCode ?? null;
          const spec = Object.values(TWILIO_ERRORS).find((e) => e.code === code);
          return { ...messageResource(held.accountSid, held.sid, held.fields, 'failed'), error_code: code, error_message: spec?.message ?? null };
        }
      }
      const upstreamSid = UpstreamClient.accountSid(customer);
      const path = m ? url.replace(`/Accounts/${m[1]}`, `/Accounts/${m[1] === customer.accountSid ? upstreamSid : m[1]}`) : url;
      let body: Buffer | string | undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        if (Buffer.isBuffer(req.body)) body = req.body;
        else if (isForm(req.body)) body = rawForm(req.body);
        else if (req.body !== undefined && req.body !== null) body = JSON.stringify(req.body);
      }
      const ct = req.headers['content-type'];
      const accept = req.headers.accept;
      const res = await gw.upstream.send({
        customer, operation: 'passthrough', method: req.method, path,
        ...(body !== undefined ? { body } : {}),
        ...(typeof ct === 'string' && body !== undefined ? { contentType: ct } : {}),
        ...(typeof accept === 'string' ? { accept } : {}),
      });
      return relay(reply, res);
    } catch (e) {
      if (e instanceof TwilioRefusal) return refuse(reply, e);
      if (e instanceof UpstreamError) return reply.code(503).send(twilioError('upstream'));
      throw e;
    }
  });
}

/** The held item exists but is no longer held: another node or admin claimed or settled it. */
export class HeldConflict extends Error {
  constructor(readonly sid: string, readonly state: string) {
    super(state === 'releasing' ? `${sid} is being released by another request` : state === 'held' ? `${sid} changed while this request ran; try again` : `${sid} was already ${state}`);
  }
}

export interface SettleResult { status: string; upstreamStatus?: number; upstreamSid?: string; errorCode?: number }

/**
 * Releases or refuses a held message; tells the app through its StatusCallback. The review queue
 * is claimed first (held -> releasing, or held -> refused, atomically in the store), so of two
 * nodes or admins settling at once only one forwards or refuses; the other gets HeldConflict.
 * An unreachable upstream puts the item back to held (and the UpstreamError propagates).
 */
export async function settleHeld(gw: Gateway, sid: string, action: 'release' | 'refuse', actor: string): Promise<SettleResult | null> {
  const review = gw.deps.stores.review;
  const current = await review.get(sid);
  if (current === null) return null;
  if (current.state !== 'held') throw new HeldConflict(sid, current.state);
  const customer = await gw.deps.stores.tenancy.getCustomer(current.customer);
  if (customer === null) throw new Error(`customer ${current.customer} no longer exists`);
  const isMessage = current.kind === 'message';
  const callback: FormFields = { AccountSid: current.accountSid, From: first(current.fields, 'From'), To: first(current.fields, 'To'), ApiVersion: '2010-04-01' };
  callback[isMessage ? 'MessageSid' : 'CallSid'] = sid;
  if (isMessage) callback.SmsSid = sid;
  let result: SettleResult;
  const at = () => new Date().toISOString();
  // The status callback the app is owed, signed as the provider signs its own.
  let post: CallbackPost | undefined;
  const owed = (fields: FormFields) => (current.statusCallback ? gw.callbacks.prepare(current.statusCallback, fields, customer.upstream.authToken) : undefined);
  if (action === 'release') {
    const held = await review.claim(sid, actor, at());
    if (held === null) throw new HeldConflict(sid, (await review.get(sid))?.state ?? 'settled');
    let res: UpstreamResponse;
    try {
      res = await gw.upstream.send({
        customer, operation: isMessage ? 'release-message' : 'release-call', method: 'POST',
        path: `/2010-04-01/Accounts/${UpstreamClient.accountSid(customer)}/${isMessage ? 'Messages' : 'Calls'}.json`,
        contentType: 'application/x-www-form-urlencoded', body: held.raw, accept: 'application/json',
      });
    } catch (e) {
      // Nothing reached the upstream: the item is held again, for a later release or refusal.
      if (e instanceof UpstreamError) await review.unclaim(sid);
      throw e;
    }
    let upstreamSid: string | undefined;
    let errorCode: number | undefined;
    try { upstreamSid = (JSON.parse(res.body.toString('utf8')) as { sid?: string }).sid; } catch { /* not JSON */ }
    const ok = res.status < 300;
    const status = ok ? 'queued' : 'failed';
    callback[isMessage ? 'MessageStatus' : 'CallStatus'] = status;
    if (isMessage) callback.SmsStatus = status;
    if (upstreamSid) callback.WardenUpstreamSid = upstreamSid;
    if (!ok) {
      try { errorCode = (JSON.parse(res.body.toString('utf8') || '{}') as { code?: number }).code; } catch { /* not JSON */ }
      errorCode = typeof errorCode === 'number' ? errorCode : 30001;
      callback.ErrorCode = String(errorCode);
    }
    post = owed(callback);
    await review.released(sid, { by: actor, at: at(), upstreamStatus: res.status, ...(upstreamSid ? { upstreamSid } : {}), ...(errorCode !== undefined ? { errorCode } : {}), ...(post ? { callback: post } : {}) });
    result = { status, upstreamStatus: res.status };
    if (upstreamSid) result.upstreamSid = upstreamSid;
  } else {
    const code = twilioError(errorForClause(topReason(current.decision)?.clause)).code;
    callback[isMessage ? 'MessageStatus' : 'CallStatus'] = isMessage ? 'failed' : 'canceled';
    if (isMessage) callback.SmsStatus = 'failed';
    callback.ErrorCode = String(code);
    post = owed(callback);
    const refused = await review.refuse(sid, actor, at(), code, post);
    if (refused === null) throw new HeldConflict(sid, (await review.get(sid))?.state ?? 'settled');
    result = { status: isMessage ? 'failed' : 'canceled', errorCode: code };
  }
  // Committed with the settlement above; the first attempt is this node's.
  if (post && current.statusCallback) await gw.callbacks.deliver(sid, current.customer, current.statusCallback, post);
  return result;
}
