// The Twilio API calls Warden forwards without screening: an explicit table of reads (and
// deletions of the caller's own records), none of which can create or change outbound content.
// Every path is the canonical one (canonical-path.ts), under the caller's own AccountSid, and is
// forwarded as it was routed; the upstream never sees a path Warden did not match. Anything not
// in this table or among the screened writes is refused (index.ts).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CustomerRecord } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { authenticate } from './authenticate.js';
import { checkedForm, forwardedForm, paramSpec } from './form-params.js';
import { TwilioRefusal, twilioHandler } from './refusal.js';
import { relay } from './send-screening.js';
import { UpstreamClient, type UpstreamResponse } from './upstream.js';

const ACCOUNT = '/2010-04-01/Accounts/:AccountSid';

/** GET operations passed through: Twilio's fetch and list calls for resources that carry no outbound content. */
export const PASSTHROUGH_READS = [
  '/2010-04-01/Accounts/:AccountSid.json',
  `${ACCOUNT}/Messages/:Sid/Media.json`,
  `${ACCOUNT}/Messages/:Sid/Media/:MediaSid.json`,
  `${ACCOUNT}/Calls.json`,
  `${ACCOUNT}/Calls/:Sid/Recordings.json`,
  `${ACCOUNT}/Calls/:Sid/Notifications.json`,
  `${ACCOUNT}/Calls/:Sid/Events.json`,
  `${ACCOUNT}/Recordings.json`,
  `${ACCOUNT}/Recordings/:Sid.json`,
  `${ACCOUNT}/Transcriptions.json`,
  `${ACCOUNT}/Transcriptions/:Sid.json`,
  `${ACCOUNT}/Conferences.json`,
  `${ACCOUNT}/Conferences/:Sid.json`,
  `${ACCOUNT}/Conferences/:Sid/Participants.json`,
  `${ACCOUNT}/Conferences/:Sid/Participants/:CallSid.json`,
  `${ACCOUNT}/IncomingPhoneNumbers.json`,
  `${ACCOUNT}/IncomingPhoneNumbers/:Sid.json`,
  `${ACCOUNT}/OutgoingCallerIds.json`,
  `${ACCOUNT}/OutgoingCallerIds/:Sid.json`,
  `${ACCOUNT}/AvailablePhoneNumbers.json`,
  `${ACCOUNT}/AvailablePhoneNumbers/:CountryCode.json`,
  `${ACCOUNT}/AvailablePhoneNumbers/:CountryCode/:NumberType.json`,
  `${ACCOUNT}/Notifications.json`,
  `${ACCOUNT}/Notifications/:Sid.json`,
  `${ACCOUNT}/Queues.json`,
  `${ACCOUNT}/Queues/:Sid.json`,
  `${ACCOUNT}/Usage/Records.json`,
  `${ACCOUNT}/Usage/Records/:Period.json`,
  `${ACCOUNT}/Balance.json`,
] as const;

/** DELETE operations passed through: removing the caller's own records. */
export const PASSTHROUGH_DELETES = [
  `${ACCOUNT}/Messages/:Sid.json`,
  `${ACCOUNT}/Messages/:Sid/Media/:MediaSid.json`,
  `${ACCOUNT}/Recordings/:Sid.json`,
] as const;

/** Message feedback (confirmed delivery of a one-time code): one parameter, no content. */
export const FEEDBACK = `${ACCOUNT}/Messages/:Sid/Feedback.json`;
const FEEDBACK_PARAMS = paramSpec(['Outcome']);

const SID = /^[A-Z]{2}[0-9a-f]{32}$/;

/** The AccountSid upstream: the customer's configured upstream account for its own SID; a subaccount's as it is. */
export function upstreamAccount(pathSid: string, customer: CustomerRecord): string {
  return pathSid === customer.accountSid ? UpstreamClient.accountSid(customer) : pathSid;
}

/**
 * An upstream answer as the app reads it: the app knows its own AccountSid only, so page URIs and
 * account_sid fields of a JSON answer that name the upstream's account are written back to the
 * app's, and the SDK's next page comes back through Warden. Rewrites `res` in place.
 */
export function withAppAccount(res: UpstreamResponse, upstreamSid: string, appSid: string): UpstreamResponse {
  if (upstreamSid !== appSid && (res.headers['content-type'] ?? '').includes('json')) {
    res.body = Buffer.from(res.body.toString('utf8').split(upstreamSid).join(appSid), 'utf8');
  }
  return res;
}

type PassRequest = FastifyRequest<{ Params: Record<string, string> }>;

/** Forwards a routed read, deletion or feedback to the customer's upstream. */
export function passthrough(gw: Gateway, operation: 'read' | 'delete' | 'feedback') {
  return twilioHandler(async (req: PassRequest, reply: FastifyReply) => {
    const params = req.params;
    const principal = await authenticate(gw, req, params.AccountSid);
    // Resource identifiers are SIDs; a name where a SID belongs is no resource of the caller's.
    for (const key of ['Sid', 'MediaSid', 'CallSid']) {
      if (params[key] !== undefined && !SID.test(params[key])) throw new TwilioRefusal('notFound');
    }
    const customer = principal.customer;
    const q = req.url.indexOf('?');
    const path = req.url.slice(0, q < 0 ? undefined : q);
    const query = q < 0 ? '' : req.url.slice(q);
    const accountPrefix = `/2010-04-01/Accounts/${params.AccountSid}`;
    const upstreamSid = upstreamAccount(params.AccountSid, customer);
    const upstreamPath = `/2010-04-01/Accounts/${upstreamSid}${path.slice(accountPrefix.length)}`;
    let body: string | undefined;
    if (operation === 'feedback') {
      const fields = checkedForm(req.body, FEEDBACK_PARAMS);
      body = forwardedForm(fields);
    }
    const accept = req.headers.accept;
    const res = await gw.upstream.send({
      customer,
      operation: 'passthrough',
      method: operation === 'read' ? 'GET' : operation === 'delete' ? 'DELETE' : 'POST',
      path: operation === 'read' ? upstreamPath + query : upstreamPath,
      ...(body !== undefined ? { body, contentType: 'application/x-www-form-urlencoded' } : {}),
      ...(typeof accept === 'string' ? { accept } : {}),
    });
    return relay(reply, withAppAccount(res, upstreamSid, params.AccountSid));
  });
}
