// The one SID an app sees for each message. A forwarded message is the upstream's: its SID, fetch
// and list pass through unchanged. A message Warden answered itself (held for review, scheduled,
// refused after acceptance) keeps the SID Warden gave it for life: once forwarded, its upstream
// SID is mapped back on fetch, in lists and in status callbacks. Every forward with an app
// StatusCallback gives the upstream Warden's own callback URL instead, naming Warden's SID, so
// the provider's callbacks come back through Warden and are relayed to the app's URL.

import type { FastifyRequest } from 'fastify';
import type { MappedMessage } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { callResource, messageResource, rfc2822, type FormFields } from './resources.js';
import { TWILIO_ERRORS } from './twilio-errors.js';
import { encodeForm } from './upstream.js';

/** The SID the app was given for a mapped message. */
export function appSid(m: MappedMessage): string {
  return m.origin === 'forwarded' ? (m.upstreamSid ?? m.sid) : m.sid;
}

/** Where providers reach Warden: the configured public URL, else the host this request came to. */
export function publicBase(gw: Gateway, req: FastifyRequest | null): string | null {
  if (gw.options.publicUrl !== undefined) return gw.options.publicUrl.replace(/\/+$/, '');
  return req === null ? null : `${req.protocol}://${req.host}`;
}

/** Warden's status-callback URL for one message: the provider calls it, Warden relays to the app. */
export function wardenStatusUrl(base: string, customerId: string, sid: string): string {
  return `${base}/twilio/status/${encodeURIComponent(customerId)}?ws=${encodeURIComponent(sid)}`;
}

/**
 * The form to forward upstream: the app's parameters, its StatusCallback (when it gave one)
 * replaced by Warden's, and the given parameters dropped (scheduling, which Warden carries out).
 */
export function upstreamForm(fields: FormFields, statusUrl: string | null, drop: string[] = []): string {
  const out: FormFields = { ...fields };
  for (const k of drop) delete out[k];
  if (statusUrl !== null && out.StatusCallback !== undefined) out.StatusCallback = statusUrl;
  return encodeForm(out);
}

/** A message Warden answers for itself, as Twilio's API shows it. */
export function ownedResource(m: MappedMessage): Record<string, unknown> {
  const created = new Date(m.createdAt);
  if (m.kind === 'call')
    return { ...callResource(m.accountSid, m.sid, m.fields, m.status, created), date_updated: rfc2822(new Date(m.updatedAt)) };
  const r: Record<string, unknown> = {
    ...messageResource(m.accountSid, m.sid, m.fields, m.status, created),
    date_updated: rfc2822(new Date(m.updatedAt)),
  };
  if (m.errorCode !== undefined) {
    r.error_code = m.errorCode;
    r.error_message = Object.values(TWILIO_ERRORS).find((e) => e.code === m.errorCode)?.message ?? null;
  }
  return r;
}

/**
 * An upstream resource of a mapped message as the app must see it: Warden's SID in sid, uri and
 * the subresource URIs, the app's AccountSid, and the creation instant Warden accepted it at.
 */
export function asAppResource(resource: Record<string, unknown>, m: MappedMessage): Record<string, unknown> {
  const up = m.upstreamSid;
  if (up === undefined) return resource;
  const swap = (v: unknown): unknown => (typeof v === 'string' ? v.split(up).join(m.sid) : v);
  const out: Record<string, unknown> = { ...resource, sid: m.sid, uri: swap(resource.uri), date_created: rfc2822(new Date(m.createdAt)) };
  if (resource.subresource_uris !== null && typeof resource.subresource_uris === 'object') {
    out.subresource_uris = Object.fromEntries(
      Object.entries(resource.subresource_uris as Record<string, unknown>).map(([k, v]) => [k, swap(v)]),
    );
  }
  return out;
}
