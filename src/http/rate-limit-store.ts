// The per-client HTTP rate limit (@fastify/rate-limit) counted in the stores' `Counters` instead
// of this process's memory: with Redis, one count for every worker of every node; with
// `--workers N` and no Redis, one count for the machine (held by the primary).
//
// A round trip per request would cost more than the limit is worth (with Redis, ~20-35 µs of
// gateway CPU and a third of its throughput, measured), so large limits are counted locally and
// reported in batches: each process adds what it admitted to the shared count every `max / 1000`
// requests per client and every 100 ms, and judges a request by the shared total it last heard
// plus what it has admitted since. A limit of 100,000 a minute is then exceeded by at most about
// 100 requests per process, while Counters see one call per hundred requests. Limits under 2,000
// per window are small enough for that slack to matter and are counted exactly, per request.
// Counters fail open with Redis and closed through a lost primary; either way this limit admits
// (it guards against floods, not a budget): an unknown count neither blocks nor moves the estimate.

import type { Counters } from '../store/types.js';

type Incr = (err: Error | null, res?: { current: number; ttl: number }) => void;

interface Entry {
  max: number;
  windowMs: number;
  /** When this process's view of the window ends (the shared window opened at its first use anywhere). */
  expires: number;
  /** The shared total at the last report this process heard back. */
  shared: number;
  /** Admitted here since the last report was sent. */
  unsynced: number;
  /** Sent in reports not answered yet. */
  inflight: number;
  /** Refused until then: the shared count said the window is spent. */
  blockedUntil: number;
}

/** Clients tracked locally at most (default); beyond, the oldest is reported and dropped (memory stays bounded). */
const MAX_CLIENTS = 50_000;

/** Below this many requests per window a limit is counted exactly (one Counters call per request). */
export const EXACT_BELOW = 2000;

/**
 * The store class for @fastify/rate-limit's `store` option (the plugin constructs it), and `close`
 * to stop its report timer when the app closes.
 */
export function countersRateLimitStore(counters: Counters, opts: { keyPrefix?: string; reportEveryMs?: number; maxClients?: number } = {}) {
  const prefix = opts.keyPrefix ?? 'http:';
  const maxClients = opts.maxClients ?? MAX_CLIENTS;
  const entries = new Map<string, Entry>();

  const report = (key: string, e: Entry, now: number): void => {
    const n = e.unsynced;
    if (n === 0) return;
    e.unsynced = 0;
    e.inflight += n;
    counters.take(prefix + key, e.max, e.windowMs, now, n).then(
      (r) => {
        e.inflight -= n;
        if (r.failedOpen === true || r.failedClosed === true) return;
        if (r.allowed) {
          e.shared = e.max - r.remaining;
        } else {
          e.shared = e.max;
          e.blockedUntil = Date.now() + r.retryAfterMs;
        }
      },
      () => {
        e.inflight -= n;
      },
    );
  };

  const timer = setInterval(() => {
    const now = Date.now();
    for (const [key, e] of entries) {
      report(key, e, now);
      if (now >= e.expires && e.inflight === 0 && e.unsynced === 0) entries.delete(key);
    }
  }, opts.reportEveryMs ?? 100);
  timer.unref();

  class CountersRateLimitStore {
    incr(key: string, cb: Incr, timeWindow: number, max: number): void {
      const now = Date.now();
      if (max < EXACT_BELOW) {
        counters.take(prefix + key, max, timeWindow, now).then(
          (r) =>
            cb(
              null,
              r.failedClosed === true
                ? { current: 0, ttl: timeWindow }
                : r.allowed
                  ? { current: max - r.remaining, ttl: timeWindow }
                  : { current: max + 1, ttl: r.retryAfterMs },
            ),
          () => cb(null, { current: 0, ttl: timeWindow }),
        );
        return;
      }
      let e = entries.get(key);
      // A window this process saw spent ends when the shared one does (blockedUntil).
      if (e === undefined || now >= e.expires || (e.blockedUntil !== 0 && now >= e.blockedUntil)) {
        if (e === undefined && entries.size >= maxClients) {
          // Many clients at once (a flood from many addresses): report and forget the oldest.
          const [oldKey, old] = entries.entries().next().value as [string, Entry];
          report(oldKey, old, now);
          entries.delete(oldKey);
        }
        e = { max, windowMs: timeWindow, expires: now + timeWindow, shared: 0, unsynced: 0, inflight: 0, blockedUntil: 0 };
        entries.set(key, e);
      }
      if (now < e.blockedUntil) {
        cb(null, { current: max + 1, ttl: e.blockedUntil - now });
        return;
      }
      e.unsynced++;
      const current = e.shared + e.inflight + e.unsynced;
      if (e.unsynced >= Math.floor(max / 1000)) report(key, e, now);
      cb(null, { current, ttl: e.expires - now });
    }

    child(): CountersRateLimitStore {
      return this;
    }
  }
  return {
    Store: CountersRateLimitStore,
    close: () => clearInterval(timer),
  };
}
