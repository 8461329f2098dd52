// Scheduled messages (CreateMessage with ScheduleType=fixed and SendAt): screened when they are
// created, answered with status `scheduled` and a SID of Warden's, kept in the durable scheduler,
// and forwarded at SendAt by whichever node takes the job. Canceled with UpdateMessage
// Status=canceled while still scheduled. The message map's compare-and-set (scheduled -> sending,
// scheduled -> canceled) makes the send and a cancel exclusive, and a send happen at most once:
// a node that dies mid-forward leaves the message `sending` for an operator to check, never sent twice.

import type { FastifyBaseLogger } from 'fastify';
import type { ScheduledJob } from '../../store/types.js';
import type { Gateway } from '../gateway.js';
import { TwilioRefusal } from './refusal.js';
import type { FormFields } from './resources.js';
import { first } from './resources.js';
import { UpstreamClient, UpstreamError } from './upstream.js';

export const SEND_MESSAGE_TOPIC = 'send-message';
/** Twilio's window: SendAt at least 15 minutes and at most 35 days after the request. */
export const SCHEDULE_MIN_MS = 15 * 60_000;
export const SCHEDULE_MAX_MS = 35 * 24 * 3_600_000;
/** The parameters Warden carries out itself and does not forward. */
export const SCHEDULE_PARAMS = ['ScheduleType', 'SendAt'];

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** SendAt of a scheduled send (as an ISO instant), null for an immediate one; refuses what Twilio refuses. */
export function scheduledAt(fields: FormFields, now = Date.now()): string | null {
  const type = first(fields, 'ScheduleType');
  if (type === undefined) return null;
  if (type !== 'fixed') throw new TwilioRefusal('invalidSchedule', "ScheduleType must be 'fixed'");
  if (!first(fields, 'MessagingServiceSid')) throw new TwilioRefusal('scheduleNeedsService');
  const sendAt = first(fields, 'SendAt') ?? '';
  const t = ISO_8601.test(sendAt) ? Date.parse(sendAt) : NaN;
  if (Number.isNaN(t)) throw new TwilioRefusal('scheduleTimestamp', 'SendAt must be an ISO 8601 instant such as 2026-05-15T14:30:00Z');
  if (t - now < SCHEDULE_MIN_MS || t - now > SCHEDULE_MAX_MS)
    throw new TwilioRefusal('scheduleTimestamp', 'SendAt must be 15 minutes to 35 days ahead');
  return new Date(t).toISOString();
}

export interface SendMessageJob {
  sid: string;
  /** The form to forward (the app's, scheduling dropped, StatusCallback Warden's). */
  form: string;
}

/** The consumer of send-message jobs: forwards a scheduled message that is still scheduled. */
export function sendScheduledMessage(gw: Gateway, log: FastifyBaseLogger) {
  return async (job: ScheduledJob): Promise<void> => {
    const { sid, form } = JSON.parse(job.payload) as SendMessageJob;
    const messages = gw.deps.stores.messages;
    const at = () => new Date().toISOString();
    const taken = await messages.transition(sid, ['scheduled'], { status: 'sending', at: at() });
    if (taken === null) {
      const now = await messages.get(sid);
      if (now?.status === 'sending')
        log.error(
          { sid, attempt: job.attempts },
          'a scheduled message was being sent by a node that stopped; it may or may not have reached the upstream, and is not sent again',
        );
      return;
    }
    const customer = await gw.deps.stores.tenancy.getCustomer(taken.customer);
    if (customer === null) {
      await messages.transition(sid, ['sending'], { status: 'failed', errorCode: 30001, at: at() });
      return;
    }
    let res;
    try {
      res = await gw.upstream.send({
        customer,
        operation: 'scheduled-message',
        method: 'POST',
        path: `/2010-04-01/Accounts/${UpstreamClient.accountSid(customer)}/Messages.json`,
        contentType: 'application/x-www-form-urlencoded',
        body: form,
        accept: 'application/json',
      });
    } catch (e) {
      // Nothing reached the upstream: scheduled again, taken again once the job's lease ends.
      if (e instanceof UpstreamError) await messages.transition(sid, ['sending'], { status: 'scheduled', at: at() });
      throw e;
    }
    let parsed: { sid?: unknown; status?: unknown; code?: unknown } = {};
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as typeof parsed;
    } catch {
      /* not JSON */
    }
    if (res.status < 300 && typeof parsed.sid === 'string') {
      await messages.transition(sid, ['sending'], {
        status: typeof parsed.status === 'string' ? parsed.status : 'queued',
        upstreamSid: parsed.sid,
        at: at(),
      });
    } else {
      await messages.transition(sid, ['sending'], {
        status: 'failed',
        errorCode: typeof parsed.code === 'number' ? parsed.code : 30001,
        at: at(),
      });
    }
  };
}
