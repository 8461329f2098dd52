// The provider's incoming-message webhook (POST /twilio/inbound/{customerId}): verified, claimed
// once by its MessageSid (a replay or retry answers empty TwiML and changes nothing), read for
// consent keywords (STOP, START, HELP), answered with TwiML, relayed to the customer's webhook
// with OptOutType as Twilio's Advanced Opt-Out sets it.

import type { FastifyReply } from 'fastify';
import { canonicalAddress } from '../../core/phone-number.js';
import type { Gateway } from '../gateway.js';
import { formFields } from './form.js';
import { HELP_KEYWORDS, inboundKeyword, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from './keywords.js';
import { first, type FormFields } from './resources.js';
import { twimlResponse } from './twiml-response.js';
import { claimEvent, eventSid, forwardToCustomer, releaseEvent, verifiedCustomer, type WebhookRequest } from './webhook-relay.js';

type OptOutType = 'STOP' | 'START' | 'HELP';
const OPT_OUT_TYPES: ReadonlySet<string> = new Set<OptOutType>(['STOP', 'START', 'HELP']);

/** What an inbound message means for consent: Warden's reading of the body, else the provider's OptOutType. */
function optOutTypeOf(keyword: string, fields: FormFields): OptOutType | undefined {
  if (OPT_OUT_KEYWORDS.has(keyword)) return 'STOP';
  if (OPT_IN_KEYWORDS.has(keyword)) return 'START';
  if (HELP_KEYWORDS.has(keyword)) return 'HELP';
  // A provider with its own keyword list (Advanced Opt-Out in other languages) says so in the signed form.
  const given = first(fields, 'OptOutType');
  return given !== undefined && OPT_OUT_TYPES.has(given) ? (given as OptOutType) : undefined;
}

/** Clock skew tolerated in a provider's instant before it is taken as now. */
const FUTURE_SKEW_MS = 5 * 60_000;

/**
 * The instant the event happened: the provider's signed `Timestamp` when it sends one (not
 * later than now), else now. Consent events are ordered by it (projection.ts).
 */
export function eventInstant(fields: FormFields, now = Date.now()): string {
  const given = first(fields, 'Timestamp');
  const t = given !== undefined && given.length <= 64 ? Date.parse(given) : NaN;
  return new Date(Number.isFinite(t) && t > 0 && t <= now + FUTURE_SKEW_MS ? Math.min(t, now) : now).toISOString();
}

export function inboundWebhook(gw: Gateway) {
  const stores = gw.deps.stores;
  return async (req: WebhookRequest, reply: FastifyReply) => {
    const customer = await verifiedCustomer(gw, req);
    if (customer === null) {
      gw.metrics.webhooks.inc({ kind: 'inbound', outcome: 'bad-signature' });
      return reply.code(403).type('text/plain').send('invalid or missing X-Twilio-Signature');
    }
    const fields = formFields(req.body);
    const sid = eventSid(fields, 'MessageSid');
    if (sid === undefined) {
      gw.metrics.webhooks.inc({ kind: 'inbound', outcome: 'bad-request' });
      return reply
        .code(400)
        .type('text/plain')
        .send('MessageSid missing or malformed: an incoming message is identified by its one MessageSid');
    }
    const eventId = `inbound:${sid}`;
    reply.type('text/xml');
    if (!(await claimEvent(gw, customer, eventId))) {
      gw.metrics.webhooks.inc({ kind: 'inbound', outcome: 'replay' });
      return twimlResponse();
    }
    // The sender of an inbound message, keyed as sends to it are (the provider sends E.164 already).
    const rawFrom = first(fields, 'From') ?? '';
    const from = canonicalAddress(rawFrom) ?? rawFrom;
    const keyword = inboundKeyword(first(fields, 'Body') ?? '');
    const optOutType = optOutTypeOf(keyword, fields);
    const settings = customer.settings ?? {};
    const consent = async (kind: 'opt-out' | 'opt-in') => {
      if (!from) return;
      await stores.consent.append({
        customer: customer.id,
        recipient: gw.storedRecipient(customer.settings?.hashRecipients, from),
        kind,
        source: 'keyword',
        evidence: keyword || optOutType,
        at: eventInstant(fields),
      });
    };
    try {
      if (optOutType === 'STOP') await consent('opt-out');
      else if (optOutType === 'START') await consent('opt-in');
    } catch (e) {
      // Not recorded: the provider's retry must be processed, not taken for a replay.
      await releaseEvent(gw, req.log, customer, eventId);
      throw e;
    }
    const autoReply = optOutType === 'STOP' ? settings.stopReply : optOutType === 'HELP' ? settings.helpReply : undefined;
    const relayed: FormFields = optOutType !== undefined ? { ...fields, OptOutType: optOutType } : fields;
    gw.metrics.webhooks.inc({ kind: 'inbound', outcome: 'accepted' });
    if (autoReply !== undefined && autoReply !== '') {
      void forwardToCustomer(gw, req.log, customer, relayed, 'inbound');
      return twimlResponse(autoReply);
    }
    const res = await forwardToCustomer(gw, req.log, customer, relayed, 'inbound');
    if (res && res.status < 300 && /^\s*(<\?xml[^>]*>\s*)?<Response[\s>/]/.test(res.body)) return res.body;
    return twimlResponse();
  };
}
