// Inbound keywords: what an incoming message's whole body means for consent (STOP, START, HELP).

// REVOKE and OPT OUT are among the words the FCC's 2024 consent-revocation rules name next to the
// classic six (stop, quit, end, revoke, opt out, cancel, unsubscribe).
export const OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
export const OPT_IN_KEYWORDS = new Set(['START', 'UNSTOP', 'YES']);
export const HELP_KEYWORDS = new Set(['HELP', 'INFO']);

/**
 * The keyword an inbound message is, if its whole body is one: compatibility forms folded
 * (full-width "ＳＴＯＰ"), case, surrounding quotes and trailing punctuation ignored, and the
 * spaces inside dropped ("Opt out", "STOP ALL").
 */
export function inboundKeyword(body: string): string {
  return body
    .normalize('NFKC')
    .trim()
    .toUpperCase()
    .replace(/^["'\u201c\u2018]+|["'\u201d\u2019.!?]+$/g, '')
    .replace(/\s+/g, '');
}
