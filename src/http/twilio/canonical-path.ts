// One canonical form of every request path, computed once before routing (Fastify's rewriteUrl),
// so that routing, authorisation, screening and forwarding all read the same path. Percent-
// encoding is decoded, dot segments resolved, duplicate and trailing slashes merged, and under
// /2010-04-01 the resource names take the upstream's case ("messages.json" -> "Messages.json")
// and SIDs their canonical form. A path that cannot be read one way only (an encoded slash or
// backslash, a control character, malformed or double percent-encoding, a ".." above the root)
// has no canonical form: it is refused, never guessed at.

/** Where a path without a canonical form is routed (answered 404 there). */
export const INVALID_PATH = '/__warden/invalid-path';

export const TWILIO_API_PREFIX = '2010-04-01';

/**
 * Resource names of the 2010-04-01 API. The upstream reads them case-insensitively, so each is
 * kept in the upstream's own case; any other segment is a SID or a name and stays as written.
 */
const RESOURCE_NAMES = [
  'Accounts',
  'Messages',
  'Media',
  'Feedback',
  'Calls',
  'Recordings',
  'Notifications',
  'Events',
  'Payments',
  'Streams',
  'Siprec',
  'Transcriptions',
  'Conferences',
  'Participants',
  'IncomingPhoneNumbers',
  'OutgoingCallerIds',
  'AvailablePhoneNumbers',
  'Local',
  'Mobile',
  'TollFree',
  'Usage',
  'Records',
  'Triggers',
  'Daily',
  'Monthly',
  'Yearly',
  'AllTime',
  'Today',
  'Yesterday',
  'ThisMonth',
  'LastMonth',
  'Queues',
  'Members',
  'Balance',
  'Applications',
  'ConnectApps',
  'AuthorizedConnectApps',
  'Keys',
  'SigningKeys',
  'ShortCodes',
  'Addresses',
  'DependentPhoneNumbers',
  'SIP',
  'Domains',
  'CredentialLists',
  'IpAccessControlLists',
  'Credentials',
  'IpAddresses',
  'CredentialListMappings',
  'IpAccessControlListMappings',
  'Auth',
  'SMS',
  'UserDefinedMessages',
  'UserDefinedMessageSubscriptions',
  'Tokens',
  'ValidationRequests',
  'Sandbox',
];
const BY_LOWER = new Map(RESOURCE_NAMES.map((n) => [n.toLowerCase(), n]));
const SID = /^([A-Za-z]{2})([0-9a-fA-F]{32})$/;
const EXTENSIONS = new Set(['json', 'xml', 'csv', 'html']);

// Bytes that may stand in a canonical segment: unreserved characters and the sub-delimiters a
// Twilio path can carry (":" in "whatsapp:", "+" in numbers, "@" in SIP names, "=" and "," in names).
const SEGMENT_OK = /^[A-Za-z0-9._~!$&'()*+,;=:@-]*$/;
// eslint-disable-next-line no-control-regex
const STRUCTURAL = /[/\\\x00-\x1f\x7f]/;

/** Quick test: a path that is certainly canonical already (the hot path: /v1/screen, exact Twilio sends). */
function plainlyCanonical(path: string): boolean {
  if (path.length > 1 && path.endsWith('/')) return false;
  if (path.includes('%') || path.includes('//') || path.includes('/.') || path.includes('\\')) return false;
  // Under the Twilio prefix the case of resource names must still be checked.
  return !path.startsWith('/2010-04-01/') && path.charCodeAt(1) !== 0x32; /* '2' */
}

function canonicalTwilioSegment(segment: string): string {
  const dot = segment.lastIndexOf('.');
  const ext = dot > 0 ? segment.slice(dot + 1).toLowerCase() : '';
  const name = dot > 0 && EXTENSIONS.has(ext) ? segment.slice(0, dot) : segment;
  const suffix = name === segment ? '' : `.${ext}`;
  const known = BY_LOWER.get(name.toLowerCase());
  if (known !== undefined) return known + suffix;
  const sid = SID.exec(name);
  if (sid) return sid[1].toUpperCase() + sid[2].toLowerCase() + suffix;
  return segment;
}

/**
 * The canonical form of a request URL's path, the query string kept as it was; null when the
 * path has none (see the header).
 */
export function canonicalPath(url: string): string | null {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  if (!path.startsWith('/')) return null;
  if (plainlyCanonical(path)) return url;
  const out: string[] = [];
  const decoded: string[] = [];
  for (const raw of path.split('/')) {
    let segment: string;
    try {
      segment = raw.includes('%') ? decodeURIComponent(raw) : raw;
    } catch {
      return null; // malformed percent-encoding or not UTF-8
    }
    // An encoded separator or a control character: no one reading of the path.
    if (STRUCTURAL.test(segment)) return null;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      // Never out of the top-level segment it started in (/2010-04-01/../v1 is no path of either).
      if (out.length <= 1) return null;
      out.pop();
      decoded.pop();
      continue;
    }
    out.push(raw);
    decoded.push(segment);
  }
  if (decoded[0] === TWILIO_API_PREFIX) {
    // Forwarded upstream: decoded (no second layer of encoding), only bytes a Twilio path
    // carries, and resource names in the upstream's case.
    for (let i = 0; i < decoded.length; i++) {
      if (!SEGMENT_OK.test(decoded[i])) return null;
      out[i] = i === 0 ? decoded[i] : canonicalTwilioSegment(decoded[i]);
    }
  }
  // Elsewhere the segments stay as written, for the router to decode once into its parameters.
  return '/' + out.join('/') + query;
}

/** Fastify's rewriteUrl: the canonical path, or the refusal route. */
export function rewriteToCanonical(req: { url?: string }): string {
  const url = req.url ?? '/';
  return canonicalPath(url) ?? INVALID_PATH;
}
