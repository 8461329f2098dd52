// The admin API's errors as Fastify answers them: an Error with the status code to send (the app's
// error handler shapes the body). Tenancy's own refusals (a duplicate id, an unknown customer, an
// invalid sender) keep their message and status.

import { TenancyError } from './tenancy.js';

export function httpError(statusCode: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

/** Runs a tenancy operation; its TenancyError becomes a 4xx with the same message. */
export async function tenancyCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof TenancyError) throw httpError(e.statusCode, e.message);
    throw e;
  }
}
