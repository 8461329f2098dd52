// Webhook event ids seen (replay check) in SQLite: a claim is one INSERT ... ON CONFLICT DO NOTHING.

import type Database from 'better-sqlite3';
import { isoTime } from '../rows/shared.js';
import type { WebhookEventStore } from '../types.js';
import type { Write } from './writer.js';

export function sqliteWebhookEvents(db: Database.Database, write: Write): WebhookEventStore {
  const claim = db.prepare('INSERT INTO webhook_events (customer, event_id, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
  const release = db.prepare('DELETE FROM webhook_events WHERE customer = ? AND event_id = ?');
  const purge = db.prepare('DELETE FROM webhook_events WHERE seen_at < ?');
  return {
    claim: (customer, id, at) => write(() => claim.run(customer, id, isoTime(at)).changes === 1),
    release: (customer, id) =>
      write(() => {
        release.run(customer, id);
      }),
    purge: (olderThan) => write(() => purge.run(isoTime(olderThan)).changes),
  };
}
