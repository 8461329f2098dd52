// Who is calling the Twilio-compatible API: the credential in the Authorization header, and the
// check that the AccountSid in the (canonical) path is the credential's own.

import type { FastifyRequest } from 'fastify';
import { VerificationThrottled, type Principal } from '../credentials.js';
import type { Gateway } from '../gateway.js';
import { TwilioRefusal } from './refusal.js';

export async function authenticate(gw: Gateway, req: FastifyRequest, pathSid: string | undefined): Promise<Principal> {
  let p: Principal | null;
  try {
    p = await gw.auth.fromHeader(req.headers.authorization, req.ip);
  } catch (e) {
    if (e instanceof VerificationThrottled) throw new TwilioRefusal('tooManyRequests', e.message, e.retryAfterSeconds);
    throw e;
  }
  if (p === null) throw new TwilioRefusal('auth');
  if (pathSid !== undefined && pathSid !== p.customer.accountSid && pathSid !== p.endUser) {
    throw new TwilioRefusal('auth', 'the AccountSid in the URL does not belong to these credentials');
  }
  return p;
}
