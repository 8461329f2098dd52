// Status callbacks Warden sends itself: a message it held for review was released or refused.
// The app learns that outcome only this way or by fetching the message, so an attempt that fails
// for a reason that may pass (unreachable, timeout, 5xx, 429) is tried again a few times in the
// background (GatewayOptions.statusCallbackRetryMs) before it is given up and logged. An answer
// the app chose (2xx-4xx other than 429) ends it. Retries live in this process's memory: a
// restart drops them, and the app can still fetch the message (Warden answers for held SIDs).

import type { FastifyBaseLogger } from 'fastify';
import type { Gateway } from '../gateway.js';

type Attempt = 'delivered' | 'refused' | 'failed';

/** Retries waiting on a timer, per gateway; null once the gateway closed (no retry starts after). */
const waiting = new WeakMap<Gateway, Set<NodeJS.Timeout> | null>();

/** Drops the retries still waiting (the gateway is closing; the app can fetch the message). */
export function cancelStatusCallbacks(gw: Gateway): void {
  for (const t of waiting.get(gw) ?? []) clearTimeout(t);
  waiting.set(gw, null);
}

/**
 * Posts a status callback; resolves after the first attempt. When that one fails, the retries
 * run on timers that do not keep the process alive.
 */
export async function sendStatusCallback(gw: Gateway, url: string, body: string, headers: Record<string, string>, sid: string, log: FastifyBaseLogger): Promise<void> {
  const attempt = async (n: number): Promise<Attempt> => {
    let outcome: Attempt;
    try {
      const res = await gw.upstream.postForm(url, body, headers, 'status-callback');
      outcome = res.status < 400 ? 'delivered' : res.status === 429 || res.status >= 500 ? 'failed' : 'refused';
      if (outcome !== 'delivered') log.warn({ sid, status: res.status, attempt: n }, 'status callback to the app answered with an error');
    } catch (e) {
      outcome = 'failed';
      log.warn({ err: e, sid, attempt: n }, 'status callback to the app failed');
    }
    gw.metrics.statusCallbacks.inc({ outcome });
    return outcome;
  };
  const delays = gw.options.statusCallbackRetryMs;
  // `next`: the number of the attempt to make; the wait before attempt k is delays[k - 2].
  const retry = (next: number): void => {
    let timers = waiting.get(gw);
    if (timers === null) return;
    const wait = delays[next - 2];
    if (wait === undefined) {
      log.error({ sid, attempts: next - 1 }, 'status callback to the app given up');
      return;
    }
    if (timers === undefined) waiting.set(gw, (timers = new Set()));
    const pending = timers;
    const t = setTimeout(() => {
      pending.delete(t);
      void attempt(next).then((o) => { if (o === 'failed') retry(next + 1); });
    }, wait);
    t.unref();
    pending.add(t);
  };
  if ((await attempt(1)) === 'failed') retry(2);
}
