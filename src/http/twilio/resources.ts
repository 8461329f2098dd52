// Twilio Message and Call resources as Twilio's API returns them (shapes from Twilio's OpenAPI
// description, operations CreateMessage and CreateCall). Used for messages Warden holds for review
// and by the built-in sink upstream: one builder, so both answer alike. Like Twilio, a resource's
// `to` is the number in E.164 however the app wrote it ("(415) 555-0100" sent from a US number is
// "+14155550100"); a channel address keeps its channel ("whatsapp:+14155550100").

import { canonicalRecipient } from '../../core/phone-number.js';

export type FormFields = Record<string, string | string[] | undefined>;

/** RFC 2822 date as Twilio writes it: `Thu, 24 Aug 2023 05:01:45 +0000`. */
export function rfc2822(d: Date = new Date()): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

export function first(fields: FormFields, name: string): string | undefined {
  const v = fields[name];
  return Array.isArray(v) ? v[0] : v;
}

export function all(fields: FormFields, name: string): string[] {
  const v = fields[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** GSM-7 messages carry 153 characters per segment when split, UCS-2 67; one segment below 160/70. */
export function segments(body: string): number {
  if (body.length === 0) return 1;
  // eslint-disable-next-line no-control-regex
  const gsm = /^[\x0A\x0D\x20-\x7E£¥èéùìòÇØøÅå_ÆæßÉ¤¡ÄÖÑÜ§¿äöñüà€]*$/.test(body);
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  return body.length <= single ? 1 : Math.ceil(body.length / multi);
}

/** `whatsapp:`, `rcs:`, `sip:`...: the channel a `To` is written for, if any. */
const CHANNEL = /^\s*([a-z][a-z0-9-]{0,19}):/i;

/**
 * `to` as the provider reports it: canonicalRecipient() (E.164, national digits read in the
 * sender's country), with the channel the app named kept (canonicalRecipient reads an `rcs:`
 * address as its bare number, which is right for opt-outs but not for the resource); as written
 * when it holds no phone number.
 */
export function resourceTo(to: string, from: string): string {
  const canonical = canonicalRecipient(to, from);
  if (canonical === null) return to;
  const channel = CHANNEL.exec(to)?.[1].toLowerCase();
  return channel === undefined || canonical.includes(':') ? canonical : `${channel}:${canonical}`;
}

export interface MessageResource {
  account_sid: string;
  api_version: '2010-04-01';
  body: string;
  date_created: string;
  date_sent: string | null;
  date_updated: string;
  direction: 'outbound-api' | 'inbound';
  error_code: number | null;
  error_message: string | null;
  from: string | null;
  messaging_service_sid: string | null;
  num_media: string;
  num_segments: string;
  price: string | null;
  price_unit: string | null;
  sid: string;
  status: string;
  subresource_uris: { media: string };
  to: string;
  uri: string;
}

export function messageResource(accountSid: string, sid: string, fields: FormFields, status: string, now = new Date()): MessageResource {
  const body = first(fields, 'Body') ?? '';
  const date = rfc2822(now);
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}`;
  const from = first(fields, 'From');
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body,
    date_created: date,
    date_sent: null,
    date_updated: date,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: from ?? null,
    messaging_service_sid: first(fields, 'MessagingServiceSid') ?? null,
    num_media: String(all(fields, 'MediaUrl').length),
    num_segments: String(segments(body)),
    price: null,
    price_unit: 'USD',
    sid,
    status,
    subresource_uris: { media: `${uri}/Media.json` },
    to: resourceTo(first(fields, 'To') ?? '', from ?? ''),
    uri: `${uri}.json`,
  };
}

export interface CallResource {
  account_sid: string;
  answered_by: null;
  api_version: '2010-04-01';
  caller_name: null;
  date_created: string;
  date_updated: string;
  direction: 'outbound-api';
  duration: string | null;
  end_time: string | null;
  forwarded_from: null;
  from: string;
  from_formatted: string;
  group_sid: null;
  parent_call_sid: null;
  phone_number_sid: null;
  price: null;
  price_unit: 'USD';
  queue_time: string;
  sid: string;
  start_time: string | null;
  status: string;
  subresource_uris: Record<string, string>;
  to: string;
  to_formatted: string;
  trunk_sid: null;
  uri: string;
}

export function callResource(accountSid: string, sid: string, fields: FormFields, status: string, now = new Date()): CallResource {
  const date = rfc2822(now);
  const base = `/2010-04-01/Accounts/${accountSid}/Calls/${sid}`;
  const from = first(fields, 'From') ?? '';
  const to = resourceTo(first(fields, 'To') ?? '', from);
  return {
    account_sid: accountSid,
    answered_by: null,
    api_version: '2010-04-01',
    caller_name: null,
    date_created: date,
    date_updated: date,
    direction: 'outbound-api',
    duration: null,
    end_time: null,
    forwarded_from: null,
    from,
    from_formatted: from,
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: null,
    price: null,
    price_unit: 'USD',
    queue_time: '0',
    sid,
    start_time: null,
    status,
    subresource_uris: {
      notifications: `${base}/Notifications.json`,
      recordings: `${base}/Recordings.json`,
      events: `${base}/Events.json`,
    },
    to,
    to_formatted: to,
    trunk_sid: null,
    uri: `${base}.json`,
  };
}
