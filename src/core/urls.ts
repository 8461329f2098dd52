// Finds links in a message, including the forms senders use to slip past link filters:
// bare domains ("bit.ly/x"), defanged dots and schemes ("example[.]com", "hxxp://"), IDN and
// punycode hosts, IP literals, and hosts hidden behind invisible characters or look-alike letters.
// Scanning runs over the folded text (see normalise.ts); the host is then re-read from the
// original span so that look-alike letters are detected rather than silently repaired.

import { domainToASCII, domainToUnicode } from 'node:url';
import { type NormalisedText, originalSpan } from './normalise.js';
import { KNOWN_TLDS, WORDLIKE_TLDS } from './tlds.js';

export interface FoundUrl {
  /** Span in the original text. */
  start: number;
  end: number;
  text: string;
  /** Lower-case ASCII (punycode) host, without a trailing dot. */
  host: string;
  /** Unicode form of the host as the recipient would see it. */
  hostUnicode: string;
  path: string;
  hasScheme: boolean;
  defanged: boolean;
  ipHost: boolean;
  /** Host is an internationalised name (punycode or non-ASCII letters). */
  idn: boolean;
  /** Look-alike letters had to be folded to read the host (e.g. Cyrillic "а" in "pаypal"). */
  homograph: boolean;
  userinfo: boolean;
  port?: number;
  /** When the link came from a field other than the body. */
  field?: string;
}

// Candidate scanner. Labels cannot contain separators, so every repetition consumes a separator;
// a candidate may only start where no label or dot precedes it, so a failed attempt is never
// retried from inside the same run of labels. Together that keeps a scan linear in the text
// (test/core/urls.test.ts times adversarial inputs of growing size).
const SEP = String.raw`(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\.)`;
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62})`;
const SCHEME = String.raw`(?:h(?:tt|xx)ps?|ftp)(?:\[:\]|:)\/\/`;
export const URL_CANDIDATE = new RegExp(
  String.raw`(?<![\p{L}\p{N}.\-\]\)}])(${SCHEME})?(?:([^\s/@:]{1,64})@)?((?:${LABEL}${SEP})+(?:xn--[a-z0-9-]{1,59}|\p{L}{2,63})|\d{1,3}(?:${SEP}\d{1,3}){3})(?::(\d{1,5}))?([/?#][^\s<>"']*)?`,
  'gu',
);
// Where a link may be: a label character, a (possibly defanged) dot, a label character. Every
// candidate holds one, and a candidate never spans white space, so only the white-space-free
// chunks around these spots are scanned (a whole long text costs the scanner ~75 ns a character).
const MAYBE_LINK = /[\p{L}\p{N}-](?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\))[\p{L}\p{N}]/gu;

/** JavaScript's `\s`, as a code test. */
function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x80 &&
      (c === 0xa0 ||
        c === 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) ||
        c === 0x2028 ||
        c === 0x2029 ||
        c === 0x202f ||
        c === 0x205f ||
        c === 0x3000 ||
        c === 0xfeff))
  );
}
const DEFANG = /\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]/g;
const INVISIBLE = /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF]/g;
const TRAILING_PUNCT = /[.,;:!?)\]}'"]+$/;

function isIpv4(host: string): boolean {
  const parts = host.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** Links in the text, in order; with `limit`, the scan stops once that many are found. */
export function extractUrls(n: NormalisedText, field?: string, limit = Infinity): FoundUrl[] {
  const text = n.folded;
  const found: FoundUrl[] = [];
  MAYBE_LINK.lastIndex = 0;
  let spot: RegExpExecArray | null;
  let scannedTo = 0;
  while (found.length < limit && (spot = MAYBE_LINK.exec(text)) !== null) {
    let from = spot.index;
    while (from > scannedTo && !isSpace(text.charCodeAt(from - 1))) from--;
    let to = spot.index + spot[0].length;
    while (to < text.length && !isSpace(text.charCodeAt(to))) to++;
    scanChunk(n, from, to, field, found, limit);
    // The next spot is looked for after this chunk.
    scannedTo = to;
    MAYBE_LINK.lastIndex = to;
  }
  return found;
}

/**
 * Candidates inside text[from, to), a run without white space: `from` follows white space (or the
 * start), so the scanner's look-behind reads the same there as in the whole text.
 */
function scanChunk(n: NormalisedText, from: number, to: number, field: string | undefined, found: FoundUrl[], limit: number): void {
  // A slice, so a chunk without a candidate does not send the scanner on through the rest of the text.
  const chunk = n.folded.slice(from, to);
  URL_CANDIDATE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (found.length < limit && (m = URL_CANDIDATE.exec(chunk)) !== null) {
    const index = from + m.index;
    const [whole, scheme, user, hostRaw, portRaw] = m;
    let pathRaw = m[5] ?? '';
    const trail = TRAILING_PUNCT.exec(pathRaw);
    let end = index + whole.length;
    if (trail) {
      pathRaw = pathRaw.slice(0, pathRaw.length - trail[0].length);
      end -= trail[0].length;
    }
    // "name@example.com" without a scheme is an e-mail address, not a link.
    if (user !== undefined && scheme === undefined) continue;
    const folding = hostRaw.replace(DEFANG, '.');
    const defanged = folding !== hostRaw || (scheme !== undefined && /xx|\[:\]/.test(scheme));
    const labels = folding.split('.');
    const tld = labels[labels.length - 1];
    const ipHost = isIpv4(folding);
    // A bare dotted quad is usually a version or score; only treat it as a link with a scheme, port or path.
    if (ipHost && scheme === undefined && !pathRaw && portRaw === undefined) continue;
    if (!ipHost && scheme === undefined) {
      // A bare domain must end in a known TLD; word-like TLDs ("so", "in") only with a path.
      if (!tld.startsWith('xn--') && !KNOWN_TLDS.has(tld)) continue;
      if (WORDLIKE_TLDS.has(tld) && !pathRaw && !defanged) continue;
    }
    // Re-read the host from the original text: look-alike letters and invisibles reveal themselves.
    const hostStart = index + (scheme?.length ?? 0) + (user !== undefined ? user.length + 1 : 0);
    const span = originalSpan(n, hostStart, hostStart + hostRaw.length);
    const originalHost = span.text.normalize('NFKC').replace(INVISIBLE, '').toLowerCase().replace(DEFANG, '.');
    const ascii = domainToASCII(originalHost) || originalHost;
    const folded = domainToASCII(folding) || folding;
    const hostUnicode = domainToUnicode(ascii) || originalHost;
    const idn = ascii.includes('xn--') || /[^\p{ASCII}]/u.test(originalHost);
    const whole0 = originalSpan(n, index, end);
    found.push({
      start: whole0.start,
      end: whole0.end,
      text: whole0.text,
      host: ascii,
      hostUnicode,
      path: pathRaw,
      hasScheme: scheme !== undefined,
      defanged,
      ipHost,
      idn,
      homograph: ascii !== folded,
      userinfo: user !== undefined,
      ...(portRaw !== undefined ? { port: Number(portRaw) } : {}),
      ...(field !== undefined ? { field } : {}),
    });
  }
}
