// What a message sent with a Content template (ContentSid + ContentVariables) says. When the
// template can be read from the upstream's Content API (GET /v1/Content/{sid}, cached per customer
// and template), Warden screens the template filled in with the variables, in every variant it
// has (text, card, buttons, list items, media URLs); when it cannot (the sink has no Content API,
// the template does not exist, the API is down), the variable values alone, one per line. The
// fetch is injected so that it goes through the gateway's one egress-policed client.
// Fails open to the variables: a template is approved upstream before use, and its variables are
// the part an app controls per message.

import { LRUCache } from 'lru-cache';
import type { CustomerRecord } from '../../store/types.js';

export interface ContentTemplate {
  sid: string;
  /** Every string a recipient can see, one per line, with its `{{name}}` placeholders. */
  text: string;
  /** The template's own sample values, used for a variable the message does not give. */
  defaults: Record<string, string>;
}

export interface ContentTemplates {
  /** The customer's template, or null when it cannot be known. Never rejects. */
  get(customer: CustomerRecord, contentSid: string): Promise<ContentTemplate | null>;
}

/** One GET through the gateway's outbound client: status and body text. */
export type FetchContent = (url: string, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

export type ContentVariables = Record<string, string>;

/** A Content SID: `HX` and 32 hex digits (anything else is never put in a URL). */
export const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;
/** Largest ContentVariables accepted, characters; Twilio's own form limit is far below this route's 64 KiB. */
const MAX_VARIABLES_LENGTH = 16 * 1024;
/** Largest Content API answer read; a template is a few kilobytes. */
const MAX_RESOURCE_LENGTH = 256 * 1024;
const MAX_DEPTH = 16;
/** Keys of a Content resource's types that are identifiers, not text anybody reads. */
const NOT_TEXT = new Set(['id', 'type']);
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]{1,64})\s*\}\}/g;

/** Parses ContentVariables: a JSON object of string (or number, boolean) values. */
export function parseContentVariables(raw: string | undefined): { variables: ContentVariables } | { error: string } {
  const out: ContentVariables = Object.create(null) as ContentVariables;
  if (raw === undefined || raw === '') return { variables: out };
  if (raw.length > MAX_VARIABLES_LENGTH) return { error: `ContentVariables is longer than ${MAX_VARIABLES_LENGTH} characters` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { error: 'ContentVariables is not valid JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { error: 'ContentVariables must be a JSON object such as {"1":"Alice"}' };
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else return { error: `ContentVariables["${k.slice(0, 40)}"] must be a string` };
  }
  return { variables: out };
}

function collectStrings(v: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (typeof v === 'string') {
    if (v.trim() !== '') out.push(v);
  } else if (Array.isArray(v)) {
    for (const x of v) collectStrings(x, out, depth + 1);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (!NOT_TEXT.has(k)) collectStrings(x, out, depth + 1);
  }
}

/** The template a Content API resource describes, or null when it is not one. */
export function templateFromResource(resource: unknown): ContentTemplate | null {
  if (resource === null || typeof resource !== 'object') return null;
  const r = resource as { sid?: unknown; types?: unknown; variables?: unknown };
  if (typeof r.sid !== 'string' || r.types === null || typeof r.types !== 'object') return null;
  const lines: string[] = [];
  collectStrings(r.types, lines, 0);
  const defaults: Record<string, string> = Object.create(null) as Record<string, string>;
  if (r.variables !== null && typeof r.variables === 'object') {
    for (const [k, v] of Object.entries(r.variables)) if (typeof v === 'string') defaults[k] = v;
  }
  return { sid: r.sid, text: [...new Set(lines)].join('\n'), defaults };
}

/** The template with `{{name}}` replaced by the message's value, else the template's sample value. */
export function fillTemplate(template: ContentTemplate, variables: ContentVariables): string {
  return template.text.replace(PLACEHOLDER, (_, name: string) =>
    Object.hasOwn(variables, name) ? variables[name] : Object.hasOwn(template.defaults, name) ? template.defaults[name] : '',
  );
}

/** What to screen for a templated message: the filled template, or the variable values alone. */
export function contentText(template: ContentTemplate | null, variables: ContentVariables): string {
  if (template !== null) return fillTemplate(template, variables);
  return Object.values(variables)
    .filter((v) => v.trim() !== '')
    .join('\n');
}

/**
 * The Content API that goes with a customer's upstream: Twilio's for an upstream on twilio.com,
 * none for the sink or any other upstream (its templates cannot be known).
 */
export function twilioContentApi(customer: CustomerRecord): string | null {
  let host: string;
  try {
    host = new URL(customer.upstream.baseUrl).hostname.toLowerCase();
  } catch {
    return null;
  }
  return host === 'twilio.com' || host.endsWith('.twilio.com') ? 'https://content.twilio.com' : null;
}

const MISS = Symbol('no template');
type Cached = ContentTemplate | typeof MISS;

export interface ContentTemplateCacheOptions {
  fetch: FetchContent;
  /** Base URL of the customer's Content API, or null when it has none (default: twilioContentApi). */
  contentApi?: (customer: CustomerRecord) => string | null;
  /** Templates kept (LRU). */
  max?: number;
  /** How long a template is kept. Templates change rarely and are re-approved when they do. */
  ttlMs?: number;
  /** How long "no such template" is kept. */
  missTtlMs?: number;
  /** How long a failure (unreachable, 5xx, unreadable answer) is kept, so an outage costs one fetch per template per interval. */
  errorTtlMs?: number;
  onError?: (err: unknown, customer: string, sid: string) => void;
}

/** Content templates read from the upstream's Content API, cached per customer and template (LRU + TTL). */
export class CachedContentTemplates implements ContentTemplates {
  private readonly cache: LRUCache<string, Cached, { customer: CustomerRecord; sid: string }>;
  private readonly contentApi: (customer: CustomerRecord) => string | null;

  constructor(private readonly opts: ContentTemplateCacheOptions) {
    this.contentApi = opts.contentApi ?? twilioContentApi;
    const missTtl = opts.missTtlMs ?? 60_000;
    const errorTtl = opts.errorTtlMs ?? 5_000;
    this.cache = new LRUCache<string, Cached, { customer: CustomerRecord; sid: string }>({
      max: opts.max ?? 10_000,
      ttl: opts.ttlMs ?? 10 * 60_000,
      // Concurrent misses for one template share one fetch (lru-cache's fetch coalesces them).
      fetchMethod: async (_key, _stale, { options, context }) => {
        const { value, ttl } = await this.load(context.customer, context.sid, missTtl, errorTtl);
        if (ttl !== undefined) options.ttl = ttl;
        return value;
      },
    });
  }

  private async load(customer: CustomerRecord, sid: string, missTtl: number, errorTtl: number): Promise<{ value: Cached; ttl?: number }> {
    const base = this.contentApi(customer);
    if (base === null) return { value: MISS };
    const headers: Record<string, string> = { accept: 'application/json' };
    const user = customer.upstream.accountSid ?? customer.accountSid;
    const token = customer.upstream.authToken;
    if (token) headers.authorization = 'Basic ' + Buffer.from(`${user}:${token}`).toString('base64');
    try {
      const res = await this.opts.fetch(`${base.replace(/\/+$/, '')}/v1/Content/${sid}`, headers);
      if (res.status === 404) return { value: MISS, ttl: missTtl };
      if (res.status !== 200) throw new Error(`Content API answered ${res.status}`);
      if (res.body.length > MAX_RESOURCE_LENGTH) throw new Error('Content API answer too large');
      const template = templateFromResource(JSON.parse(res.body));
      if (template === null) throw new Error('Content API answer is not a Content resource');
      return { value: template };
    } catch (e) {
      this.opts.onError?.(e, customer.id, sid);
      return { value: MISS, ttl: errorTtl };
    }
  }

  async get(customer: CustomerRecord, contentSid: string): Promise<ContentTemplate | null> {
    if (!CONTENT_SID.test(contentSid)) return null;
    try {
      // Keyed by customer: one tenant's templates are never another's, even for the same SID.
      const v = await this.cache.fetch(`${customer.id}\u0000${contentSid}`, { context: { customer, sid: contentSid } });
      return v === undefined || v === MISS ? null : v;
    } catch (e) {
      this.opts.onError?.(e, customer.id, contentSid);
      return null;
    }
  }
}

/** What a templated message puts in front of its recipient, ready to screen; an error means 400 (21656). */
export async function templatedMessageText(
  templates: ContentTemplates,
  customer: CustomerRecord,
  contentSid: string,
  rawVariables: string | undefined,
): Promise<{ text: string; templateKnown: boolean } | { error: string }> {
  const parsed = parseContentVariables(rawVariables);
  if ('error' in parsed) return parsed;
  const template = await templates.get(customer, contentSid);
  return { text: contentText(template, parsed.variables), templateKnown: template !== null };
}
