// Every Twilio error code Warden returns, in Twilio's own error shape
// `{code, message, more_info, status}`, which the `twilio` package turns into a RestException.
// docs/http-api.md lists the same table; keep the two in step.

import type { Decision, Reason } from '../../core/types.js';

export interface TwilioErrorSpec {
  code: number;
  status: number;
  message: string;
  /** When Warden returns it (documentation only). */
  when: string;
}

export const TWILIO_ERRORS = {
  auth: {
    code: 20003,
    status: 401,
    message: 'Authentication Error - invalid username',
    when: 'Missing, malformed, unknown or revoked credentials, a wrong secret, or an AccountSid in the path that the credential does not own.',
  },
  notFound: {
    code: 20404,
    status: 404,
    message: 'The requested resource was not found',
    when: 'A path Warden does not know under /2010-04-01 or /twilio (after canonicalisation), a path with no canonical form, or a held message that does not exist for this account.',
  },
  forbidden: {
    code: 20403,
    status: 403,
    message: 'Forbidden: this operation is not available through Warden',
    when: 'A write Warden does not screen and does not pass through (deny by default): anything but the screened sends and updates and the read-only table; see docs/http-api.md.',
  },
  unknownParameter: {
    code: 20001,
    status: 400,
    message: 'Unknown parameter',
    when: 'A screened write (CreateMessage, CreateCall, UpdateMessage, UpdateCall) with a parameter the operation does not take, a case variant of one among them.',
  },
  repeatedParameter: {
    code: 20001,
    status: 400,
    message: 'Invalid parameter: a single-valued parameter is repeated',
    when: 'A screened write that gives To, From, Body or any other single-valued parameter more than once.',
  },
  invalidUpdate: {
    code: 20001,
    status: 400,
    message: 'Invalid parameter for this update',
    when: "UpdateMessage with anything but Body='' (redaction) or Status=canceled.",
  },
  notForm: {
    code: 20001,
    status: 400,
    message: 'Invalid request: send the parameters form-encoded',
    when: 'A screened write or a webhook whose body is not application/x-www-form-urlencoded.',
  },
  tooManyRequests: {
    code: 20429,
    status: 429,
    message: 'Too Many Requests',
    when: 'The per-customer send limit or the per-client request limit is exhausted, or the policy throttled the message; a Retry-After header says when to retry.',
  },
  upstream: {
    code: 20503,
    status: 503,
    message: 'Service Unavailable: the upstream provider could not be reached',
    when: 'Warden could not reach the configured upstream (Twilio or the sink); the message was screened and allowed but not sent.',
  },
  missingTo: { code: 21604, status: 400, message: "A 'To' phone number is required.", when: 'CreateMessage or CreateCall without To.' },
  invalidTo: {
    code: 21211,
    status: 400,
    message: "The 'To' number is not a valid phone number.",
    when: "To is not a phone number: neither E.164 (formatting such as spaces, dots, dashes and brackets is accepted and removed), nor national digits in the From number's country, nor a channel address (whatsapp:+1..., or sip: and client: for calls).",
  },
  missingFrom: {
    code: 21603,
    status: 400,
    message: "A 'From' phone number is required.",
    when: 'CreateMessage without From or MessagingServiceSid, or CreateCall without From.',
  },
  missingBody: {
    code: 21602,
    status: 400,
    message: 'Message body is required.',
    when: 'CreateMessage without Body, MediaUrl or ContentSid.',
  },
  missingCallContent: {
    code: 21205,
    status: 400,
    message: 'Url parameter is required.',
    when: 'CreateCall without Url, Twiml or ApplicationSid.',
  },
  invalidStatusCallback: {
    code: 21609,
    status: 400,
    message: 'Invalid StatusCallback URL',
    when: "StatusCallback is not an absolute http(s) URL. A URL aimed at Warden's own network is not refused here but when Warden or the provider calls it (docs/egress.md).",
  },
  bodyTooLong: {
    code: 21617,
    status: 400,
    message: 'The concatenated message body exceeds the 1600 character limit.',
    when: 'Body longer than 1,600 characters.',
  },
  unsubscribed: {
    code: 21610,
    status: 400,
    message: 'Attempt to send to unsubscribed recipient',
    when: "The recipient opted out of this customer's messages (STOP keyword, consent API); reason clause law.opt-out.",
  },
  region: {
    code: 21408,
    status: 400,
    message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    when: "The destination country is not in the customer's allowedCountries, or a rule for country.requirements blocked it.",
  },
  senderNotOwned: {
    code: 21606,
    status: 400,
    message: "The 'From' phone number provided is not a valid message-capable phone number for this account.",
    when: "From (or MessagingServiceSid) is not one of the customer's owned senders, or a rule for identity.falsification* blocked it.",
  },
  contentFiltered: {
    code: 30007,
    status: 400,
    message: 'Message filtered: the content violates the Acceptable Use Policy',
    when: 'The policy blocked the message for its content (content.*, integrity.*, law.* other than opt-out, and every other clause without a more specific code).',
  },
  invalidSchedule: {
    code: 20001,
    status: 400,
    message: 'Invalid parameter: ScheduleType',
    when: "CreateMessage with a ScheduleType other than 'fixed'.",
  },
  scheduleNeedsService: {
    code: 35111,
    status: 400,
    message: 'MessagingServiceSid is required to schedule a message',
    when: 'CreateMessage with ScheduleType=fixed but no MessagingServiceSid.',
  },
  scheduleTimestamp: {
    code: 35114,
    status: 400,
    message: 'Scheduling does not support this timestamp',
    when: 'CreateMessage with ScheduleType=fixed whose SendAt is missing, not ISO 8601, or not 15 minutes to 35 days ahead.',
  },
  notCancelable: {
    code: 30409,
    status: 400,
    message: 'This message cannot be canceled',
    when: 'UpdateMessage Status=canceled for a message Warden scheduled that is no longer scheduled (sent, sending or canceled).',
  },
  suspended: {
    code: 30002,
    status: 400,
    message: 'Account suspended',
    when: 'The customer or end user is suspended (reason clause account.suspended).',
  },
  twimlInvalid: {
    code: 12100,
    status: 400,
    message: 'Document parse failure',
    when: 'CreateCall or UpdateCall whose Twiml is not well-formed XML, has a DOCTYPE, or has a root other than <Response> (src/http/twilio/twiml.ts).',
  },
  twimlTooLarge: {
    code: 11750,
    status: 400,
    message: 'TwiML response body too large',
    when: 'CreateCall or UpdateCall whose Twiml is longer than the 4,000 characters Twilio accepts.',
  },
  contentVariablesInvalid: {
    code: 21656,
    status: 400,
    message: 'The ContentVariables Parameter is invalid',
    when: 'CreateMessage whose ContentVariables is not a JSON object of string (or number) values.',
  },
} as const satisfies Record<string, TwilioErrorSpec>;

export type TwilioErrorName = keyof typeof TWILIO_ERRORS;

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export function twilioError(name: TwilioErrorName, detail?: string): TwilioErrorBody {
  const spec: TwilioErrorSpec = TWILIO_ERRORS[name];
  return {
    code: spec.code,
    message: detail ? `${spec.message}: ${detail}` : spec.message,
    more_info: `https://www.twilio.com/docs/errors/${spec.code}`,
    status: spec.status,
  };
}

/** The reason that decides the refusal: a direct action first, then the heaviest non-shadow reason. */
export function topReason(decision: Decision): Reason | undefined {
  const live = decision.reasons.filter((r) => !r.shadow);
  const direct = live.find((r) => r.action === decision.action);
  if (direct) return direct;
  return [...live].sort((a, b) => b.weight - a.weight)[0];
}

/** Maps a refused decision's top reason clause to the Twilio error the app sees. */
export function errorForClause(clause: string | undefined): TwilioErrorName {
  if (clause === undefined) return 'contentFiltered';
  if (clause === 'law.opt-out') return 'unsubscribed';
  if (clause === 'account.suspended') return 'suspended';
  if (clause === 'country.requirements' || clause.startsWith('country.')) return 'region';
  if (clause === 'identity.falsification' || clause.startsWith('identity.falsification')) return 'senderNotOwned';
  return 'contentFiltered';
}
