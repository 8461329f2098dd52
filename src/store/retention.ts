// Retention: per customer, message bodies are nulled after bodyRetentionDays and decisions are
// deleted after decisionRetentionDays (kept longer, without bodies); settled review-queue items
// (which keep the whole request) are deleted after bodyRetentionDays. Items still held are never
// purged. The ids of provider webhook events already processed are kept
// WEBHOOK_EVENT_RETENTION_DAYS for every customer. Runs on a timer in `serve`.

import type { Stores } from './types.js';

const DAY = 86_400_000;

/**
 * Days a processed webhook event id is kept for deduplication. The provider's signature carries no
 * instant, so a replay older than this is processed again; its consent effect is still ordered by
 * its instant (projection.ts), and a provider retries for minutes, not weeks.
 */
export const WEBHOOK_EVENT_RETENTION_DAYS = 30;

type RetainedStores = Pick<Stores, 'tenancy' | 'decisions' | 'review'> & Partial<Pick<Stores, 'webhookEvents'>>;

/** Deletes webhook event ids older than the retention window; returns how many. */
export async function purgeWebhookEvents(stores: RetainedStores, now = Date.now()): Promise<number> {
  return stores.webhookEvents === undefined
    ? 0
    : stores.webhookEvents.purge(new Date(now - WEBHOOK_EVENT_RETENTION_DAYS * DAY).toISOString());
}

export interface RetentionResult {
  customer: string;
  bodiesPurged: number;
  decisionsDeleted: number;
  heldPurged: number;
}

export async function runRetention(stores: Pick<Stores, 'tenancy' | 'decisions' | 'review'>, now = Date.now()): Promise<RetentionResult[]> {
  const out: RetentionResult[] = [];
  for (const c of await stores.tenancy.listCustomers()) {
    const r: RetentionResult = { customer: c.id, bodiesPurged: 0, decisionsDeleted: 0, heldPurged: 0 };
    const { bodyRetentionDays, decisionRetentionDays } = c.settings;
    if (decisionRetentionDays !== undefined)
      r.decisionsDeleted = await stores.decisions.purgeDecisions(c.id, new Date(now - decisionRetentionDays * DAY).toISOString());
    if (bodyRetentionDays !== undefined) {
      const cutoff = new Date(now - bodyRetentionDays * DAY).toISOString();
      r.bodiesPurged = await stores.decisions.purgeBodies(c.id, cutoff);
      r.heldPurged = await stores.review.purgeSettled(c.id, cutoff);
    }
    out.push(r);
  }
  return out;
}

/**
 * Runs retention every intervalMs (now, unless `share` says otherwise); returns a stop function.
 * Logs counts only. With `share` = {of: N}, one of N processes of a machine (cluster workers,
 * whose ids change as they restart): each runs every N x intervalMs, starting at a random point
 * of that period, so the machine purges about once per interval instead of N times. The deletes
 * are idempotent, so an overlap costs a query, not data.
 */
export function startRetentionJob(
  stores: RetainedStores,
  intervalMs: number,
  log: (m: string) => void = (m) => process.stderr.write(`warden retention: ${m}\n`),
  share: { of: number } = { of: 1 },
): () => void {
  if (intervalMs <= 0) return () => undefined;
  if (share.of > 1) {
    const period = intervalMs * share.of;
    let stopPeriodic: (() => void) | null = null;
    const first = setTimeout(
      () => {
        stopPeriodic = startRetentionJob(stores, period, log);
      },
      Math.floor(Math.random() * period),
    );
    first.unref();
    return () => {
      clearTimeout(first);
      stopPeriodic?.();
    };
  }
  const tick = () => {
    runRetention(stores)
      .then((rs) => {
        const b = rs.reduce((n, r) => n + r.bodiesPurged, 0);
        const d = rs.reduce((n, r) => n + r.decisionsDeleted, 0);
        const h = rs.reduce((n, r) => n + r.heldPurged, 0);
        if (b + d + h > 0) log(`purged ${b} bodies, ${d} decisions and ${h} settled held items`);
      })
      .catch((e: unknown) => log(`failed: ${(e as Error).message}`));
    purgeWebhookEvents(stores)
      .then((n) => {
        if (n > 0) log(`purged ${n} webhook event ids older than ${WEBHOOK_EVENT_RETENTION_DAYS} days`);
      })
      .catch((e: unknown) => log(`webhook event purge failed: ${(e as Error).message}`));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return () => clearInterval(timer);
}
