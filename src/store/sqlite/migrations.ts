// Forward-only schema migrations of the embedded SQLite database, applied in order at start.
// Never edit a released migration: add the next one.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'event tables, tenancy, decisions',
    sql: `
      CREATE TABLE consent_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        customer TEXT NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
        evidence TEXT, at TEXT NOT NULL);
      CREATE INDEX consent_by_subject ON consent_events (customer, recipient, seq);
      CREATE TABLE enforcement_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        customer TEXT NOT NULL, end_user TEXT, action TEXT NOT NULL, clause TEXT, reason TEXT NOT NULL,
        actor TEXT NOT NULL, at TEXT NOT NULL);
      CREATE INDEX enforcement_by_customer ON enforcement_events (customer, seq);
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
        detail TEXT, at TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE TABLE policy_versions (
        policy_version TEXT PRIMARY KEY, files TEXT NOT NULL, effective_at TEXT NOT NULL,
        published_at TEXT NOT NULL, published_by TEXT NOT NULL);
      CREATE TABLE report_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, report_id TEXT NOT NULL, customer TEXT NOT NULL,
        kind TEXT NOT NULL, detail TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL);
      CREATE INDEX reports_by_report ON report_events (report_id, seq);
      CREATE INDEX reports_by_customer ON report_events (customer, seq);
      CREATE TABLE customers (id TEXT PRIMARY KEY, account_sid TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
      CREATE TABLE credentials (id TEXT PRIMARY KEY, customer TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE TABLE decisions (
        customer TEXT NOT NULL, id TEXT NOT NULL, end_user TEXT, message_id TEXT NOT NULL,
        channel TEXT NOT NULL, action TEXT NOT NULL, score REAL NOT NULL, policy_version TEXT NOT NULL,
        reasons TEXT NOT NULL, recipient TEXT NOT NULL, sender TEXT NOT NULL, body TEXT, at TEXT NOT NULL,
        PRIMARY KEY (customer, id));
    `,
  },
  {
    version: 2,
    name: 'meta table, retention and erasure indexes',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE INDEX decisions_by_time ON decisions (customer, at);
      CREATE INDEX decisions_by_recipient ON decisions (recipient);
      CREATE INDEX consent_by_recipient ON consent_events (recipient);
      CREATE INDEX credentials_by_customer ON credentials (customer);
    `,
  },
  {
    version: 3,
    name: 'review queue: held messages and calls, and their settlement',
    sql: `
      CREATE TABLE review_queue (
        sid TEXT PRIMARY KEY, kind TEXT NOT NULL, customer TEXT NOT NULL, end_user TEXT,
        account_sid TEXT NOT NULL, recipient TEXT NOT NULL, fields TEXT NOT NULL, raw TEXT NOT NULL,
        decision TEXT NOT NULL, status_callback TEXT, held_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'releasing', 'released', 'refused')),
        claimed_at TEXT, claimed_by TEXT, settled_at TEXT, settled_by TEXT,
        upstream_status INTEGER, upstream_sid TEXT, error_code INTEGER);
      CREATE INDEX review_by_state ON review_queue (state, held_at, sid);
      CREATE INDEX review_by_customer ON review_queue (customer, state, held_at, sid);
      CREATE INDEX review_by_recipient ON review_queue (recipient);
    `,
  },
  statusCallbackColumns('TEXT'),
  webhookEventsTable('TEXT'),
  messageMapAndScheduler('TEXT', 'TEXT'),
];

/**
 * Migration 4 for both backends (they differ only in the instant's column type): the status
 * callback owed for a settled held item lives on its review-queue row, so it is committed with the
 * settlement and erased, exported and retained with the item.
 */
export function statusCallbackColumns(instantType: 'TEXT' | 'TIMESTAMPTZ'): Migration {
  return {
    version: 4,
    name: 'status callbacks owed for settled held items, committed with the settlement',
    sql: `
      ALTER TABLE review_queue ADD COLUMN callback_state TEXT CHECK (callback_state IN ('pending', 'delivered', 'refused', 'given_up'));
      ALTER TABLE review_queue ADD COLUMN callback_body TEXT;
      ALTER TABLE review_queue ADD COLUMN callback_signature TEXT;
      ALTER TABLE review_queue ADD COLUMN callback_attempts INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE review_queue ADD COLUMN callback_next_at ${instantType};
      ALTER TABLE review_queue ADD COLUMN callback_error TEXT;
      CREATE INDEX review_callbacks_due ON review_queue (callback_next_at) WHERE callback_state = 'pending';
    `,
  };
}

/**
 * Migration 5 for both backends: the provider webhook events each customer has had processed
 * (WebhookEventStore), one row per event id; the primary key makes the claim atomic.
 */
export function webhookEventsTable(instantType: 'TEXT' | 'TIMESTAMPTZ'): Migration {
  return {
    version: 5,
    name: 'provider webhook events processed, for deduplication',
    sql: `
      CREATE TABLE webhook_events (
        customer TEXT NOT NULL, event_id TEXT NOT NULL, seen_at ${instantType} NOT NULL,
        PRIMARY KEY (customer, event_id));
      CREATE INDEX webhook_events_by_time ON webhook_events (seen_at);
    `,
  };
}

/**
 * Migration 6 for both backends: the message map (the one SID the app sees per message, and the
 * app's own StatusCallback) and the durable scheduler's jobs.
 */
export function messageMapAndScheduler(instantType: 'TEXT' | 'TIMESTAMPTZ', jsonType: 'TEXT' | 'JSONB'): Migration {
  return {
    version: 6,
    name: 'message map and durable scheduler',
    sql: `
      CREATE TABLE message_map (
        sid TEXT PRIMARY KEY, customer TEXT NOT NULL, account_sid TEXT NOT NULL, kind TEXT NOT NULL, recipient TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('forwarded', 'held', 'scheduled', 'refused')),
        upstream_sid TEXT, status_callback TEXT, created_at ${instantType} NOT NULL, updated_at ${instantType} NOT NULL,
        status TEXT NOT NULL, error_code INTEGER, send_at ${instantType}, fields ${jsonType} NOT NULL);
      CREATE INDEX message_map_by_upstream ON message_map (customer, upstream_sid);
      CREATE INDEX message_map_by_recipient ON message_map (recipient);
      CREATE INDEX message_map_owned ON message_map (customer, account_sid, created_at) WHERE upstream_sid IS NULL AND origin <> 'forwarded';
      CREATE TABLE scheduled_jobs (
        id TEXT PRIMARY KEY, topic TEXT NOT NULL, customer TEXT NOT NULL, due_at ${instantType} NOT NULL, payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'canceled')),
        attempts INTEGER NOT NULL DEFAULT 0, lease_until ${instantType});
      CREATE INDEX scheduled_jobs_due ON scheduled_jobs (due_at) WHERE state IN ('pending', 'running');
    `,
  };
}
