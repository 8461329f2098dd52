// The TwiML proxy: for a call placed with a `Url`, Warden cannot see what the call will say when
// the call is created, because the provider fetches the TwiML later. So the create-call route
// rewrites the call's Url to this endpoint (rewriteCallUrl), and when the provider asks for the
// call's TwiML here, Warden verifies the provider's X-Twilio-Signature, fetches the app's TwiML
// from the original Url (same method and parameters, signed as the provider signs), screens it
// and answers it, or answers <Hangup/> when it is refused or cannot be read.
//
// The original Url travels inside the path, in a token authenticated with an installation key
// (HMAC-SHA256 over the customer, the call and the Url), so the endpoint is no open proxy: it only
// fetches URLs that an authenticated app gave Warden for that customer. The documents the answered
// TwiML fetches next (Gather/Record/Dial action, Redirect, waitUrl, a Number's url...) are rewritten
// the same way, so every document of the call is screened; relative URLs are made absolute against
// the app's URL, since the provider would otherwise resolve them against Warden's.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CustomerRecord } from '../../store/types.js';
import { formFields, rawForm } from './form.js';
import { first, type FormFields } from './resources.js';
import { computeSignature, verifySignature } from './signature.js';
import {
  TWIML_DOCUMENT_LIMIT,
  contentOfTree,
  isTwimlError,
  parseTwiml,
  serializeTwiml,
  urlAttribute,
  urlText,
  type TwimlContent,
  type TwimlElement,
} from './twiml.js';
import { encodeForm } from './upstream.js';

export type HttpMethod = 'GET' | 'POST';

/** One request to the app through the gateway's egress-policed client (no redirects followed). */
export type FetchTwiml = (
  url: string,
  method: HttpMethod,
  form: string,
  headers: Record<string, string>,
) => Promise<{ status: number; contentType?: string; body: Buffer }>;

/** What the screen callback is asked about: one document of one call. */
export interface ProxiedDocument {
  customer: CustomerRecord;
  /** The provider's CallSid, from the request. */
  callSid: string | undefined;
  /** The provider's parameters (From, To, CallStatus, Digits...), from the body or, for GET, the query. */
  params: FormFields;
  /** The SID the token was made for (Warden's SID for the call on create, the provider's on update). */
  ref: string;
  /** The app's URL the document came from, and how it was asked for. */
  url: string;
  method: HttpMethod;
  /** `twiml` for a TwiML document, `text` for text/plain (spoken), `audio` for audio played as is. */
  kind: 'twiml' | 'text' | 'audio';
  content: TwimlContent;
}

export type ScreenTwiml = (doc: ProxiedDocument) => Promise<{ allow: boolean; decisionId?: string }>;

export interface TwimlProxyOptions {
  /** Installation key, the same on every node (e.g. from the store's meta table); at least 32 bytes. */
  key: string | Buffer;
  /** Base URL at which the provider reaches Warden (as in the gateway's publicUrl). */
  publicUrl: string;
}

export interface TwimlProxyDeps {
  getCustomer(id: string): Promise<CustomerRecord | null>;
  fetchTwiml: FetchTwiml;
  screen: ScreenTwiml;
  /** Token the app checks our X-Twilio-Signature with (default: the customer's upstream auth token, as for relayed webhooks). */
  appToken?: (customer: CustomerRecord) => string | undefined | Promise<string | undefined>;
  /** Called for each answer with its outcome (metrics, logs). */
  onOutcome?: (outcome: ProxyOutcome, customerId: string) => void;
}

export type ProxyOutcome =
  'answered' | 'refused' | 'unreadable' | 'app-error' | 'app-unreachable' | 'bad-token' | 'bad-signature' | 'screen-error';

export interface TokenClaims {
  ref: string;
  method: HttpMethod;
  url: string;
  /** The ref is the provider's CallSid and must match the request's. */
  bound: boolean;
}

export class TwimlProxyUrlError extends Error {}

/** Longest app URL a token carries. */
const MAX_URL_LENGTH = 2048;
/** Largest audio answer relayed (the provider plays files up to a few megabytes). */
const MAX_AUDIO_BYTES = 16 * 1024 * 1024;
const PREFIX = '/twilio/twiml';
export const HANGUP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';

function b64(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

function method(m: string | undefined): HttpMethod {
  return m?.toUpperCase() === 'GET' ? 'GET' : 'POST';
}

export class TwimlProxy {
  private readonly key: Buffer;
  private readonly publicUrl: string;

  constructor(opts: TwimlProxyOptions) {
    this.key = Buffer.from(opts.key);
    if (this.key.length < 32) throw new Error('the TwiML proxy key must be at least 32 bytes');
    this.publicUrl = opts.publicUrl.replace(/\/+$/, '');
  }

  private mac(customerId: string, payload: string): Buffer {
    return createHmac('sha256', this.key).update(`warden-twiml-proxy\u0000${customerId}\u0000${payload}`).digest();
  }

  /** The token for one app URL of one call of one customer. */
  token(customerId: string, claims: TokenClaims): string {
    const payload = b64(JSON.stringify([claims.ref, claims.method, claims.url, claims.bound ? 1 : 0]));
    return `v1.${payload}.${b64(this.mac(customerId, payload))}`;
  }

  /** The claims of a token made by this installation for this customer, else null. */
  readToken(customerId: string, token: string): TokenClaims | null {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1' || parts[1].length > 4 * MAX_URL_LENGTH) return null;
    const given = Buffer.from(parts[2], 'base64url');
    const expected = this.mac(customerId, parts[1]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const [ref, m, url, bound] = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as [string, string, string, number];
      if (typeof ref !== 'string' || typeof url !== 'string') return null;
      return { ref, method: method(m), url, bound: bound === 1 };
    } catch {
      return null;
    }
  }

  /**
   * The URL to give the provider instead of the app's `Url`. `callSid`: Warden's SID for the call on
   * CreateCall; on UpdateCall the provider's, with `{ bound: true }` so that requests for another
   * call are refused. Throws TwimlProxyUrlError for a URL that is not absolute http(s).
   */
  rewriteCallUrl(
    customerId: string,
    callSid: string,
    originalUrl: string,
    httpMethod: string = 'POST',
    opts: { bound?: boolean } = {},
  ): string {
    if (originalUrl.length > MAX_URL_LENGTH) throw new TwimlProxyUrlError(`Url is longer than ${MAX_URL_LENGTH} characters`);
    let u: URL;
    try {
      u = new URL(originalUrl);
    } catch {
      throw new TwimlProxyUrlError('Url is not an absolute URL');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TwimlProxyUrlError('Url must be http or https');
    return this.proxyUrl(customerId, { ref: callSid, method: method(httpMethod), url: originalUrl, bound: opts.bound === true });
  }

  private proxyUrl(customerId: string, claims: TokenClaims): string {
    return `${this.publicUrl}${PREFIX}/${encodeURIComponent(customerId)}/${this.token(customerId, claims)}`;
  }

  /** The public URL the provider requested (what it signed). */
  requestedUrl(path: string): string {
    return this.publicUrl + path;
  }

  /**
   * Makes relative URLs absolute against the app's document URL and sends every further TwiML
   * document through the proxy, for the same call. `base` null (a Twiml parameter has no URL of
   * its own): relative URLs are left as they are, absolute ones proxied all the same.
   */
  rewriteDocument(root: TwimlElement, customerId: string, base: string | null, claims: Pick<TokenClaims, 'ref' | 'bound'>): void {
    const absolute = (u: string): string => {
      if (base === null) return u;
      try {
        return new URL(u.trim(), base).href;
      } catch {
        return u;
      }
    };
    const proxied = (u: string, m: string | undefined): string => {
      const abs = absolute(u).trim();
      if (!/^https?:\/\//i.test(abs) || abs.length > MAX_URL_LENGTH) return abs;
      return this.proxyUrl(customerId, { ...claims, method: method(m), url: abs });
    };
    const walk = (el: TwimlElement) => {
      for (const name of Object.keys(el.attributes)) {
        const u = urlAttribute(el.name, name);
        if (u === null || el.attributes[name].trim() === '') continue;
        el.attributes[name] = u.document ? proxied(el.attributes[name], el.attributes[u.methodAttr]) : absolute(el.attributes[name]);
      }
      const t = urlText(el.name);
      for (let i = 0; i < el.children.length; i++) {
        const c = el.children[i];
        if (typeof c !== 'string') walk(c);
        else if (t !== undefined && c.trim() !== '') el.children[i] = t === 'document' ? proxied(c, el.attributes.method) : absolute(c);
      }
    };
    walk(root);
  }
}

/** The app's URL with the provider's GET parameters appended, as the provider would have asked it. */
function withQuery(url: string, query: string): string {
  if (query === '') return url;
  return url + (url.includes('?') ? '&' : '?') + query;
}

/** What the app answered, read for screening and for the answer to the provider. */
function readAnswer(
  res: Awaited<ReturnType<FetchTwiml>>,
  proxy: TwimlProxy,
  customerId: string,
  claims: TokenClaims,
  callSid: string | undefined,
): { kind: ProxiedDocument['kind']; content: TwimlContent; answer: { type: string; body: string | Buffer } } | { unreadable: string } {
  const type = (res.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type.startsWith('audio/')) {
    // Audio played as is: nothing to read but where it comes from.
    if (res.body.length > MAX_AUDIO_BYTES) return { unreadable: 'audio larger than Warden relays' };
    return { kind: 'audio', content: { text: '', urls: [claims.url], documentUrls: [], numbers: [] }, answer: { type, body: res.body } };
  }
  if (type === 'text/plain') {
    const text = res.body.toString('utf8');
    if (text.length > TWIML_DOCUMENT_LIMIT) return { unreadable: 'text longer than the provider reads' };
    return {
      kind: 'text',
      content: { text: text.replace(/\s+/g, ' ').trim(), urls: [], documentUrls: [], numbers: [] },
      answer: { type, body: text },
    };
  }
  if (type === '' || type === 'text/xml' || type === 'application/xml' || type === 'text/html') {
    // Warden answers only what it read: a document it cannot parse is never passed on, since the
    // provider's parser might read it differently.
    const tree = parseTwiml(res.body.toString('utf8'), TWIML_DOCUMENT_LIMIT);
    if (isTwimlError(tree)) return { unreadable: `${tree.error}: ${tree.detail}` };
    const content = contentOfTree(tree);
    proxy.rewriteDocument(tree, customerId, claims.url, callSid !== undefined ? { ref: callSid, bound: true } : claims);
    return { kind: 'twiml', content, answer: { type: 'text/xml', body: serializeTwiml(tree) } };
  }
  return { unreadable: `content type ${type} is not TwiML` };
}

/** Registers `GET|POST /twilio/twiml/{customerId}/{token}`. */
export function registerTwimlProxy(app: FastifyInstance, proxy: TwimlProxy, deps: TwimlProxyDeps): void {
  const appToken = deps.appToken ?? ((c: CustomerRecord) => c.upstream.authToken);
  const outcome = (o: ProxyOutcome, customerId: string) => deps.onOutcome?.(o, customerId);
  const twiml = (reply: FastifyReply, body: string) => reply.code(200).type('text/xml').send(body);

  const unreadable = (req: FastifyRequest, reply: FastifyReply, customerId: string, detail: string) => {
    req.log.warn({ customer: customerId, detail }, 'TwiML proxy: unreadable answer from the application');
    outcome('unreadable', customerId);
    return twiml(reply, HANGUP);
  };

  const handler = async (req: FastifyRequest<{ Params: { customerId: string; '*': string } }>, reply: FastifyReply) => {
    const customerId = req.params.customerId;
    const claims = customerId.length > 0 && customerId.length <= 100 ? proxy.readToken(customerId, req.params['*']) : null;
    if (claims === null) {
      outcome('bad-token', customerId);
      return reply.code(403).type('text/plain').send('invalid TwiML proxy token');
    }
    const customer = await deps.getCustomer(customerId);
    const upstreamToken = customer?.upstream.authToken;
    const isGet = req.method === 'GET';
    if (req.method !== claims.method) {
      outcome('bad-token', customerId);
      return reply.code(405).type('text/plain').send(`this TwiML proxy URL is asked for with ${claims.method}`);
    }
    // A GET carries the provider's parameters in the query, which the signature covers as part of the URL.
    const params: FormFields = isGet ? (Object.create(null) as FormFields) : formFields(req.body);
    const sig = req.headers['x-twilio-signature'];
    if (
      !customer ||
      !upstreamToken ||
      !verifySignature(upstreamToken, proxy.requestedUrl(req.url), params, typeof sig === 'string' ? sig : undefined)
    ) {
      outcome('bad-signature', customerId);
      return reply.code(403).type('text/plain').send('invalid or missing X-Twilio-Signature');
    }
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const callSid = isGet ? (new URLSearchParams(query).get('CallSid') ?? undefined) : first(params, 'CallSid');
    if (claims.bound && callSid !== claims.ref) {
      outcome('bad-token', customerId);
      return reply.code(403).type('text/plain').send('this TwiML proxy URL belongs to another call');
    }

    // Ask the app as the provider would have: same method and parameters, signed with the app's token.
    const url = isGet ? withQuery(claims.url, query) : claims.url;
    const form = isGet ? '' : rawForm(req.body) || encodeForm(params);
    const headers: Record<string, string> = { 'user-agent': 'TwilioProxy/1.1', accept: 'text/xml, application/xml, text/plain, audio/*' };
    const token = await appToken(customer);
    if (token) headers['x-twilio-signature'] = computeSignature(token, url, isGet ? {} : params);
    if (!isGet) headers['content-type'] = 'application/x-www-form-urlencoded';
    let res: Awaited<ReturnType<FetchTwiml>>;
    try {
      res = await deps.fetchTwiml(url, claims.method, form, headers);
    } catch (e) {
      req.log.warn({ err: e, customer: customerId }, 'TwiML proxy: app unreachable');
      outcome('app-unreachable', customerId);
      // The provider's own failure path (its fallback URL, or its error message) takes over.
      return reply.code(502).type('text/plain').send('the application could not be reached');
    }
    if (res.status < 200 || res.status >= 300) {
      outcome('app-error', customerId);
      return reply.code(502).type('text/plain').send(`the application answered ${res.status}`);
    }

    const read = readAnswer(res, proxy, customerId, claims, callSid);
    if ('unreadable' in read) return unreadable(req, reply, customerId, read.unreadable);
    const { kind, content, answer } = read;

    let verdict: { allow: boolean; decisionId?: string };
    try {
      const given = isGet ? (Object.fromEntries(new URLSearchParams(query)) as FormFields) : params;
      verdict = await deps.screen({
        customer,
        callSid,
        params: given,
        ref: claims.ref,
        url: claims.url,
        method: claims.method,
        kind,
        content,
      });
    } catch (e) {
      // Fails closed: a call whose words could not be screened is not put through.
      req.log.error({ err: e, customer: customerId }, 'TwiML proxy: screening failed');
      outcome('screen-error', customerId);
      return twiml(reply, HANGUP);
    }
    if (verdict.decisionId !== undefined) reply.header('x-warden-decision', verdict.decisionId);
    if (!verdict.allow) {
      outcome('refused', customerId);
      return twiml(reply, HANGUP);
    }
    outcome('answered', customerId);
    return reply.code(200).type(answer.type).send(answer.body);
  };

  const schema = {
    tags: ['webhooks'],
    summary:
      "TwiML proxy for calls placed with a Url: verifies X-Twilio-Signature, fetches the app's TwiML, screens it, answers it or <Hangup/>",
    params: { type: 'object', properties: { customerId: { type: 'string' }, '*': { type: 'string' } }, required: ['customerId'] },
  };
  // A wildcard, not a named parameter: the token carries the app's URL and exceeds the router's
  // 100-character limit on named parameters.
  app.route<{ Params: { customerId: string; '*': string } }>({
    method: ['GET', 'POST'],
    url: `${PREFIX}/:customerId/*`,
    schema,
    bodyLimit: 64 * 1024,
    handler,
  });
}
