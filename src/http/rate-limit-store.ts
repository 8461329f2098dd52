// The per-client HTTP rate limit (@fastify/rate-limit) counted in the stores' `Counters` instead
// of this process's memory. With Redis that is one count for every worker of every node, so a
// client gets the configured rate from the whole deployment, not from each process. Counters fail
// open (Redis unreachable: the request is admitted, with a warning), so this store never turns a
// storage fault into an error response.

import type { Counters } from '../store/types.js';

type Incr = (err: Error | null, res?: { current: number; ttl: number }) => void;

/** The store class for @fastify/rate-limit's `store` option (the plugin constructs it). */
export function countersRateLimitStore(counters: Counters, keyPrefix = 'http:') {
  return class CountersRateLimitStore {
    incr(key: string, cb: Incr, timeWindow: number, max: number): void {
      counters.take(keyPrefix + key, max, timeWindow, Date.now()).then(
        (r) => cb(null, r.allowed ? { current: max - r.remaining, ttl: timeWindow } : { current: max + 1, ttl: r.retryAfterMs }),
        // Counters answer failures themselves (fail open); anything else admits the request too.
        () => cb(null, { current: 0, ttl: timeWindow }),
      );
    }

    child(): CountersRateLimitStore {
      return this;
    }
  };
}
