// Recipient numbers in one canonical form (E.164) before anything is looked up by them. Opt-outs
// and consent history are keyed by the number as text, and a provider delivers
// "+1 (415) 555-0100", "+1.415.555.0100" and "+14155550100" to the same phone: without one form,
// an app could send to a number that said STOP by writing it differently. The parsing is
// libphonenumber-js (Google's libphonenumber metadata): it also strips a trunk prefix written after
// the country code ("+44 0 20 ..." is +4420...) and knows each country's number lengths.
//
// libphonenumber-js takes 6-10 µs a number, about as long as screening a message, so two things
// keep it off the hot path: a number in the form every North American number already arrives in
// (+1, then ten digits whose area code cannot start with 0 or 1) is canonical as written (no
// trunk prefix to strip; a test checks libphonenumber agrees), and other answers are remembered.

import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/** +1 and a ten-digit NANP number: E.164 already, unchanged by libphonenumber. */
const NANP_E164 = /^\+1[2-9]\d{9}$/;
/** `whatsapp:+1...`, `sip:...`, `client:alice`: a channel address (Twilio's `To` may be one). */
const CHANNEL_PREFIX = /^([a-z][a-z0-9-]{0,19}):/i;

const MAX_REMEMBERED = 50_000;
const canonical = new Map<string, string | null>();
const countries = new Map<string, string | null>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_REMEMBERED) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * The E.164 form of a phone number written with a country code ("+1 (415) 555-0100") or, given
 * `defaultCountry` (ISO 3166 alpha-2), in that country's national form ("(415) 555-0100");
 * null when it cannot be a phone number (wrong length for its country, letters, no country).
 */
export function canonicalNumber(raw: string, defaultCountry?: string): string | null {
  if (NANP_E164.test(raw)) return raw;
  const key = defaultCountry === undefined || raw.startsWith('+') ? raw : `${defaultCountry}\0${raw}`;
  const known = canonical.get(key);
  if (known !== undefined) return known;
  if (raw.length > 40) return null;
  const p = parsePhoneNumberFromString(raw, defaultCountry as CountryCode | undefined);
  return remember(canonical, key, p !== undefined && p.isPossible() ? p.number : null);
}

/**
 * The canonical form of a recipient address: a phone number in E.164, or a channel address with
 * its number part in E.164 (`whatsapp:+14155550100`); an address that holds no phone number
 * (`client:alice`, `sip:alice@example.com`) as written. Null when it is neither. An RCS address is
 * its bare number: RCS, SMS and MMS to one phone share one opt-out (providers unify them: a STOP
 * answered to an RCS message stops SMS too, and the other way round).
 */
export function canonicalAddress(raw: string, defaultCountry?: string): string | null {
  const text = raw.trim();
  const prefix = CHANNEL_PREFIX.exec(text);
  if (prefix === null) return canonicalNumber(text, defaultCountry);
  const rest = text.slice(prefix[0].length);
  const number = /^[+\d\s().-]+$/.test(rest) ? canonicalNumber(rest, defaultCountry) : null;
  if (number === null) return text;
  const channel = prefix[1].toLowerCase();
  return channel === 'rcs' ? number : `${channel}:${number}`;
}

/**
 * The canonical recipient of a message sent from `from`: `to` as canonicalAddress() reads it, and
 * national digits ("(415) 555-0100") read in the country of the sender's number, as a provider
 * reads them. Null when `to` is neither.
 */
export function canonicalRecipient(to: string, from: string): string | null {
  const direct = canonicalAddress(to);
  if (direct !== null || to.includes('+')) return direct;
  const sender = numberOf(canonicalAddress(from) ?? '');
  const country = sender !== undefined ? countryOfNumber(sender) : undefined;
  return country !== undefined ? canonicalAddress(to, country) : null;
}

/** The E.164 number of a canonical address (`+1415…`, `whatsapp:+1415…`), if it holds one. */
export function numberOf(address: string): string | undefined {
  return /(?:^|:)(\+\d{6,15})$/.exec(address)?.[1];
}

/** ISO country of an E.164 number (by its area code where a calling code is shared), or undefined. */
export function countryOfNumber(e164: string): string | undefined {
  let c = countries.get(e164);
  if (c === undefined) c = remember(countries, e164, parsePhoneNumberFromString(e164)?.country ?? null);
  return c ?? undefined;
}
