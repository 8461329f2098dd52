// What the provider's webhooks share: the customer a webhook is for, verified by the provider's
// X-Twilio-Signature over the URL the provider called; the event's id, claimed once in the
// durable WebhookEventStore so a replay or retry changes nothing; and the relay of the event to
// the customer's own webhook, signed as Twilio signs with the customer's own secret (relay-signing.ts).

import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { CustomerRecord } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { formFields, isForm } from './form.js';
import type { FormFields } from './resources.js';
import { verifySignature } from './signature.js';
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

/** A provider SID as it may appear in an event: letters and digits only, at most 64. */
const SID = /^[A-Za-z0-9]{2,64}$/;

/** The single SID-like value of a field, or undefined (absent, repeated, or not a SID). */
export function eventSid(fields: FormFields, name: string): string | undefined {
  const v = fields[name];
  return typeof v === 'string' && SID.test(v) ? v : undefined;
}

/**
 * Claims a provider event for processing: true the first time `eventId` is seen for the customer
 * (on any node), false for a replay or retry. A caller whose processing fails calls
 * `releaseEvent` so that the provider's retry is processed.
 */
export function claimEvent(gw: Gateway, customer: CustomerRecord, eventId: string): Promise<boolean> {
  return gw.deps.stores.webhookEvents.claim(customer.id, eventId, new Date().toISOString());
}

export async function releaseEvent(gw: Gateway, log: FastifyBaseLogger, customer: CustomerRecord, eventId: string): Promise<void> {
  try {
    await gw.deps.stores.webhookEvents.release(customer.id, eventId);
  } catch (e) {
    log.error(
      { err: e, customer: customer.id, eventId },
      'could not release a webhook event claim: a provider retry of it will be ignored',
    );
  }
}

/** Relays a provider event to the customer's webhook, signed with the customer's signing secret over that URL. */
export async function forwardToCustomer(
  gw: Gateway,
  log: FastifyBaseLogger,
  customer: CustomerRecord,
  fields: FormFields,
  kind: string,
): Promise<{ status: number; body: string } | null> {
  if (!customer.webhookUrl) return null;
  return relayEvent(gw, log, customer, customer.webhookUrl, fields, kind);
}

/** Relays a provider event to one of the customer's URLs (its webhook, a message's StatusCallback), signed as the provider signs. */
export async function relayEvent(
  gw: Gateway,
  log: FastifyBaseLogger,
  customer: CustomerRecord,
  url: string,
  fields: FormFields,
  kind: string,
): Promise<{ status: number; body: string } | null> {
  const headers: Record<string, string> = {};
  const signature = await gw.signer.sign(customer, url, fields);
  if (signature !== undefined) headers['x-twilio-signature'] = signature;
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
