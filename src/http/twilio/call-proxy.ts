// The TwiML proxy (twiml-proxy.ts) wired to this gateway: the app's TwiML is fetched through the
// egress client, screened like a call's Twiml (the core plus the gateway's sender and country
// checks, the decision recorded), and the proxy's requests to the app are signed with the secret
// the app validates with (relay-signing.ts). Also: the form a call is forwarded with when the
// customer's calls go through the proxy.

import type { FastifyInstance } from 'fastify';
import { canonicalRecipient } from '../../core/phone-number.js';
import type { Message } from '../../core/types.js';
import type { CustomerRecord } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { proxiedCallFields } from './call-content.js';
import { TwilioRefusal } from './refusal.js';
import { first, type FormFields } from './resources.js';
import { withGatewayChecks } from './send-screening.js';
import { registerTwimlProxy, TwimlProxyUrlError, type HttpMethod } from './twiml-proxy.js';

/** Largest answer read from the app (the proxy relays audio up to 16 MiB). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024 + 1;

export function registerCallProxy(app: FastifyInstance, gw: Gateway): void {
  const proxy = gw.twimlProxy;
  if (proxy === null) return;
  registerTwimlProxy(app, proxy, {
    getCustomer: (id) => gw.deps.stores.tenancy.getCustomer(id),
    appToken: async (customer) => (await gw.signer.secretFor(customer)).secret,
    fetchTwiml: async (url, method: HttpMethod, form, headers) => {
      const res = await gw.egress.request(url, {
        method,
        headers,
        body: method === 'POST' ? form : null,
        operation: 'twiml-proxy',
        timeoutMs: 10_000,
        maxBytes: MAX_ANSWER_BYTES,
        overflow: 'fail',
      });
      const type = res.headers['content-type'];
      return { status: res.status, body: res.body, ...(typeof type === 'string' ? { contentType: type } : {}) };
    },
    screen: async (doc) => {
      const from = first(doc.params, 'From') ?? '';
      const to = first(doc.params, 'To') ?? '';
      const message: Message = {
        id: doc.callSid ?? doc.ref,
        customer: doc.customer.id,
        channel: 'voice',
        from,
        to: canonicalRecipient(to, from) ?? '',
        body: [doc.content.text, ...doc.content.urls].filter((s) => s !== '').join('\n'),
        timestamp: new Date().toISOString(),
      };
      const decision = withGatewayChecks(gw.screen(message), message, doc.customer);
      gw.metrics.countDecision(decision, 'voice', 'twilio');
      const logged = gw.decisions.record(decision, message, doc.customer);
      if (logged !== null) await logged;
      return { allow: decision.action === 'allow', decisionId: decision.id };
    },
  });
}

/**
 * The parameters a call is forwarded with: its Url (and FallbackUrl, and document URLs inside
 * Twiml) pointed at the proxy when the customer's calls go through it; else as screened.
 */
export function forwardedCallFields(
  gw: Gateway,
  customer: CustomerRecord,
  fields: FormFields,
  callSid: string,
  bound: boolean,
): FormFields {
  const proxy = gw.twimlProxy;
  if (proxy === null || customer.settings?.twimlProxy === false) return fields;
  try {
    return proxiedCallFields(fields, proxy, customer.id, callSid, { bound });
  } catch (e) {
    if (e instanceof TwimlProxyUrlError) throw new TwilioRefusal('missingCallContent', e.message);
    throw e;
  }
}
