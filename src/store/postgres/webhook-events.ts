// Webhook event ids seen (replay check) in PostgreSQL: a claim is one INSERT ... ON CONFLICT DO NOTHING.

import { isoTime } from '../rows/shared.js';
import type { WebhookEventStore } from '../types.js';
import type { PgContext } from './context.js';

export function postgresWebhookEvents({ pool }: PgContext): WebhookEventStore {
  return {
    claim: async (customer, id, at) =>
      (
        await pool.query('INSERT INTO webhook_events (customer, event_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          customer,
          id,
          isoTime(at),
        ])
      ).rowCount === 1,
    release: async (customer, id) => {
      await pool.query('DELETE FROM webhook_events WHERE customer = $1 AND event_id = $2', [customer, id]);
    },
    purge: async (olderThan) => (await pool.query('DELETE FROM webhook_events WHERE seen_at < $1', [isoTime(olderThan)])).rowCount ?? 0,
  };
}
