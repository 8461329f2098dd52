// What CreateCall and UpdateCall carry that can be screened, and the form Warden forwards for
// them: the text, numbers and URLs of a `Twiml` parameter, and `Url`/`FallbackUrl` rewritten to the
// TwiML proxy (twiml-proxy.ts) so the documents the provider fetches later are screened too.
// The routes call these two functions; see docs/calls.md for what is and is not screened.

import { all, first, type FormFields } from './resources.js';
import { TwimlProxy, TwimlProxyUrlError } from './twiml-proxy.js';
import {
  TWIML_PARAMETER_LIMIT,
  contentOfTree,
  isTwimlError,
  parseTwiml,
  serializeTwiml,
  twimlErrorName,
  type TwimlContent,
} from './twiml.js';

export interface CallScreenable {
  /** What to screen as the call's body: the Twiml's spoken and messaged text, then the URLs it names. */
  body: string;
  content: TwimlContent;
}

/** The screenable content of a call's parameters, or the Twilio error for a Twiml that cannot be read. */
export function callScreenable(fields: FormFields): CallScreenable | { error: 'twimlInvalid' | 'twimlTooLarge'; detail: string } {
  const empty: TwimlContent = { text: '', urls: [], documentUrls: [], numbers: [] };
  const twiml = first(fields, 'Twiml');
  let content = empty;
  if (twiml !== undefined && twiml !== '') {
    const tree = parseTwiml(twiml, TWIML_PARAMETER_LIMIT);
    if (isTwimlError(tree)) return { error: twimlErrorName(tree), detail: tree.detail };
    content = contentOfTree(tree);
  }
  // URLs on lines of their own, so the core's URL screening reads them like links in a message.
  const body = [content.text, ...content.urls].filter((s) => s !== '').join('\n');
  return { body, content };
}

/**
 * The call's parameters as forwarded when the customer's `twimlProxy` setting is on: `Url` and
 * `FallbackUrl` point at the proxy, and the absolute document URLs inside `Twiml` too (when the
 * result still fits the 4,000 characters Twilio takes; else `Twiml` is forwarded as the app wrote it).
 * Throws TwimlProxyUrlError for a Url that is not absolute http(s) (answer 400, code 21205).
 */
export function proxiedCallFields(
  fields: FormFields,
  proxy: TwimlProxy,
  customerId: string,
  callSid: string,
  opts: { bound?: boolean } = {},
): FormFields {
  const out: FormFields = Object.create(null) as FormFields;
  for (const [k, v] of Object.entries(fields)) out[k] = Array.isArray(v) ? [...v] : v;
  const rewrite = (urlName: string, methodName: string) => {
    const url = first(fields, urlName);
    if (url === undefined || url === '') return;
    if (all(fields, urlName).length > 1) throw new TwimlProxyUrlError(`${urlName} is given more than once`);
    out[urlName] = proxy.rewriteCallUrl(customerId, callSid, url, first(fields, methodName) ?? 'POST', opts);
  };
  rewrite('Url', 'Method');
  rewrite('FallbackUrl', 'FallbackMethod');
  const twiml = first(fields, 'Twiml');
  if (twiml !== undefined && twiml !== '') {
    const tree = parseTwiml(twiml, TWIML_PARAMETER_LIMIT);
    if (!isTwimlError(tree)) {
      proxy.rewriteDocument(tree, customerId, null, { ref: callSid, bound: opts.bound === true });
      const rewritten = serializeTwiml(tree);
      if (rewritten.length <= TWIML_PARAMETER_LIMIT) out.Twiml = rewritten;
    }
  }
  return out;
}
