// What the provider's webhooks share: the customer a webhook is for, verified by the provider's
// X-Twilio-Signature over the URL the provider called, and the relay of the event to the
// customer's own webhook.

import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { CustomerRecord } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { formFields, isForm } from './form.js';
import type { FormFields } from './resources.js';
import { computeSignature, verifySignature } from './signature.js';
import { encodeForm } from './upstream.js';

export type WebhookRequest = FastifyRequest<{ Params: { customerId: string } }>;

/** The URL the provider signed: the public base and the path as the provider wrote it. */
function webhookUrl(gw: Gateway, req: FastifyRequest): string {
  const base = gw.options.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`;
  return base + req.originalUrl;
}

/**
 * The customer of a correctly signed form webhook, else null. Only form bodies are read: the
 * provider sends nothing else, and any other shape (JSON, nested values) is not a provider event.
 */
export async function verifiedCustomer(gw: Gateway, req: WebhookRequest): Promise<CustomerRecord | null> {
  const id = req.params.customerId;
  if (id.length === 0 || id.length > 100 || !isForm(req.body)) return null;
  const customer = await gw.deps.stores.tenancy.getCustomer(id);
  const token = customer?.upstream.authToken;
  if (!customer || !token) return null;
  const sig = req.headers['x-twilio-signature'];
  return verifySignature(token, webhookUrl(gw, req), formFields(req.body), typeof sig === 'string' ? sig : undefined) ? customer : null;
}

/** Relays a provider event to the customer's webhook, re-signed with the upstream auth token. */
export async function forwardToCustomer(gw: Gateway, log: FastifyBaseLogger, customer: CustomerRecord, fields: FormFields, kind: string): Promise<{ status: number; body: string } | null> {
  if (!customer.webhookUrl) return null;
  return relayEvent(gw, log, customer, customer.webhookUrl, fields, kind);
}

/** Relays a provider event to one of the customer's URLs (its webhook, a message's StatusCallback), signed as the provider signs. */
export async function relayEvent(gw: Gateway, log: FastifyBaseLogger, customer: CustomerRecord, url: string, fields: FormFields, kind: string): Promise<{ status: number; body: string } | null> {
  const headers: Record<string, string> = {};
  if (customer.upstream.authToken) headers['x-twilio-signature'] = computeSignature(customer.upstream.authToken, url, fields);
  try {
    const res = await gw.upstream.postForm(url, encodeForm(fields), headers, `webhook-${kind}`);
    gw.metrics.webhooks.inc({ kind, outcome: res.status < 400 ? 'forwarded' : 'customer-error' });
    return res;
  } catch (e) {
    log.warn({ err: e, customer: customer.id }, 'customer webhook unreachable');
    gw.metrics.webhooks.inc({ kind, outcome: 'customer-unreachable' });
    return null;
  }
}

export const webhookSchema = (summary: string) => ({
  tags: ['webhooks'],
  summary,
  params: { type: 'object', properties: { customerId: { type: 'string' } }, required: ['customerId'] },
  consumes: ['application/x-www-form-urlencoded'],
});
