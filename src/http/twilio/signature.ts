// X-Twilio-Signature: base64 HMAC-SHA1, keyed with the account's auth token, over the full URL
// followed by every POST parameter name and value, names sorted and repeated values de-duplicated
// and sorted (the algorithm of the `twilio` package's getExpectedTwilioSignature). The URL is
// tried with and without its default port, as validateRequest does. Comparison is constant time.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FormFields } from './resources.js';

export function computeSignature(authToken: string, url: string, params: FormFields): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const v = params[name];
    if (v === undefined) continue;
    const values = Array.isArray(v) ? [...new Set(v)].sort() : [v];
    for (const value of values) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function signatureMatches(authToken: string, url: string, params: FormFields, signature: string): boolean {
  const expected = Buffer.from(computeSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The URL as given plus the same URL with its default port added or removed. */
export function urlVariants(url: string): string[] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, authority, rest] = m;
  const at = authority.lastIndexOf('@');
  const userInfo = at === -1 ? '' : authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  const colon = hostPort.indexOf(':', hostPort.lastIndexOf(']') + 1);
  const host = colon === -1 ? hostPort : hostPort.slice(0, colon);
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  const withoutPort = scheme + userInfo + host + rest;
  const withPort = colon === -1 ? scheme + userInfo + host + defaultPort + rest : url;
  return [...new Set([url, withoutPort, withPort])];
}

export function verifySignature(authToken: string, url: string, params: FormFields, signature: string | undefined): boolean {
  if (typeof signature !== 'string' || signature.length === 0 || signature.length > 200) return false;
  return urlVariants(url).some((u) => signatureMatches(authToken, u, params, signature));
}
